import type { DockerClient } from './client.js';
import { SWARM_PORT, withSwarmPort } from './addresses.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { readLocalSwarmState, type LocalSwarmState } from './local-state.js';
import type { SwarmMembership } from './membership.js';

export interface SwarmInitOptions {
  /** Overlay subnets, e.g. ['10.20.0.0/16'] when the default 10.0.0.0/8 collides with the hosts' networks. */
  readonly defaultAddrPool?: readonly string[];
  readonly subnetSize?: number;
  /** VXLAN port (default 4789, which collides with VMware NSX). */
  readonly dataPathPort?: number;
}

/**
 * Makes the node the first manager of a new swarm, advertising `advertiseAddr` (the node's static
 * address; managers must keep theirs). Idempotent: a node that already manages a swarm is reported
 * as it is. A node that is a worker somewhere, or stuck joining, is an error for the caller to resolve.
 */
export async function initSwarm(client: DockerClient, advertiseAddr: string, options: SwarmInitOptions = {}): Promise<SwarmMembership> {
  const operation = 'swarm-init';
  const before = await readLocalSwarmState(client, operation);
  if (before.state === 'inactive') {
    await callDocker(client, { operation }, (docker) => docker.swarmInit(initRequest(advertiseAddr, options)));
    return membershipOf(client, await readLocalSwarmState(client, operation), operation, true);
  }
  return membershipOf(client, before, operation, false);
}

function initRequest(advertiseAddr: string, options: SwarmInitOptions): Record<string, unknown> {
  return {
    ListenAddr: `0.0.0.0:${SWARM_PORT}`,
    AdvertiseAddr: withSwarmPort(advertiseAddr),
    ForceNewCluster: false,
    ...(options.defaultAddrPool === undefined ? {} : { DefaultAddrPool: [...options.defaultAddrPool] }),
    ...(options.subnetSize === undefined ? {} : { SubnetSize: options.subnetSize }),
    ...(options.dataPathPort === undefined ? {} : { DataPathPort: options.dataPathPort }),
  };
}

function membershipOf(client: DockerClient, state: LocalSwarmState, operation: string, changed: boolean): SwarmMembership {
  const context = { address: client.endpoint, operation };
  if (state.state !== 'active' || state.nodeId === undefined) {
    throw new SwarmError('invalid-state', context, `the node's swarm state is ${state.state}${state.error ? ` (${state.error})` : ''}`);
  }
  if (!state.isManager) {
    throw new SwarmError('invalid-state', context, `the node is a worker of a swarm (managers ${state.remoteManagers.join(', ')}), not a manager`);
  }
  return { nodeId: state.nodeId, isManager: true, clusterId: state.clusterId, changed };
}
