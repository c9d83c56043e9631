import type { LocalNodeState, WireLocalSwarmInfo } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';

/** A daemon's own view of its swarm membership (`docker info` → Swarm). */
export interface LocalSwarmState {
  readonly state: Exclude<LocalNodeState, ''>;
  /** Empty until the daemon is (or is becoming) a member. */
  readonly nodeId: string | undefined;
  readonly nodeAddr: string | undefined;
  /** A manager that can serve swarm API calls. */
  readonly isManager: boolean;
  /** Managers only: workers do not learn the cluster ID. */
  readonly clusterId: string | undefined;
  /** `ip:2377` of the managers this daemon knows (managers list themselves too). */
  readonly remoteManagers: readonly string[];
  readonly error: string | undefined;
}

export async function readLocalSwarmState(client: DockerClient, operation = 'read-swarm-state'): Promise<LocalSwarmState> {
  const info = (await callDocker(client, { operation }, (docker) => docker.info())) as { Swarm?: WireLocalSwarmInfo };
  return toLocalSwarmState(info.Swarm);
}

export function toLocalSwarmState(swarm: WireLocalSwarmInfo | undefined): LocalSwarmState {
  return {
    state: swarm?.LocalNodeState || 'inactive',
    nodeId: swarm?.NodeID || undefined,
    nodeAddr: swarm?.NodeAddr || undefined,
    isManager: swarm?.ControlAvailable === true,
    clusterId: swarm?.Cluster?.ID || undefined,
    remoteManagers: (swarm?.RemoteManagers ?? []).flatMap((manager) => (manager.Addr ? [manager.Addr] : [])),
    error: swarm?.Error || undefined,
  };
}
