import type { WireSwarm } from './api-types.js';
import type { DockerClient } from './client.js';
import { SWARM_PORT, hostOf, withSwarmPort } from './addresses.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { readLocalSwarmState, type LocalSwarmState } from './local-state.js';
import type { SwarmMembership } from './membership.js';

/** Secrets: whoever holds one can join the swarm. Never log them or put them in messages. */
export interface JoinTokens {
  readonly worker: string;
  readonly manager: string;
}

/** Read from a manager each time: they change when the swarm CA rotates. */
export async function joinTokens(manager: DockerClient): Promise<JoinTokens> {
  const operation = 'read-join-tokens';
  const swarm = (await callDocker(manager, { operation }, (docker) => docker.swarmInspect())) as WireSwarm;
  const { Worker: worker, Manager: managerToken } = swarm.JoinTokens ?? {};
  if (!worker || !managerToken) throw new SwarmError('api', { address: manager.endpoint, operation }, 'the swarm inspect answer holds no join tokens');
  return { worker, manager: managerToken };
}

export interface SwarmJoinRequest {
  /** The joining node's own address. */
  readonly advertiseAddr: string;
  /** Addresses of current managers (`ip` or `ip:port`). */
  readonly remoteAddrs: readonly string[];
  /** The worker or the manager token: it decides the role the node joins with. */
  readonly token: string;
}

/**
 * Joins the node to the swarm whose managers are `remoteAddrs`. Idempotent: a node that is already a
 * member of that swarm is reported as it is (with its current role, which may differ from the
 * token's: promote or demote it separately). A member of another swarm is an 'other-swarm' error:
 * leaving it would destroy state marina does not own.
 *
 * "That swarm" is recognised by its managers: a member knows the addresses of its swarm's managers
 * (RemoteManagers), and workers do not learn the cluster ID, so one shared manager address is the
 * evidence.
 */
export async function joinSwarm(client: DockerClient, request: SwarmJoinRequest): Promise<SwarmMembership> {
  const operation = 'swarm-join';
  const context = { address: client.endpoint, operation };
  const before = await readLocalSwarmState(client, operation);
  if (before.state === 'active') {
    if (!sharesManager(before, request.remoteAddrs)) {
      throw new SwarmError('other-swarm', context, `the node belongs to a swarm managed by ${before.remoteManagers.join(', ') || 'unknown managers'}`);
    }
    return membership(context, before, false);
  }
  if (before.state !== 'inactive') {
    throw new SwarmError('invalid-state', context, `cannot join while the node's swarm state is ${before.state}${before.error ? ` (${before.error})` : ''}`);
  }
  await callDocker(client, { operation }, (docker) =>
    docker.swarmJoin({
      ListenAddr: `0.0.0.0:${SWARM_PORT}`,
      AdvertiseAddr: withSwarmPort(request.advertiseAddr),
      RemoteAddrs: request.remoteAddrs.map(withSwarmPort),
      JoinToken: request.token,
    }),
  );
  return membership(context, await readLocalSwarmState(client, operation), true);
}

export function sharesManager(state: LocalSwarmState, remoteAddrs: readonly string[]): boolean {
  const wanted = new Set(remoteAddrs.map(hostOf));
  return state.remoteManagers.some((manager) => wanted.has(hostOf(manager)));
}

function membership(context: { address: string; operation: string }, state: LocalSwarmState, changed: boolean): SwarmMembership {
  if (state.state !== 'active' || state.nodeId === undefined) {
    throw new SwarmError('invalid-state', context, `the node's swarm state is ${state.state} after joining`);
  }
  return { nodeId: state.nodeId, isManager: state.isManager, clusterId: state.clusterId, changed };
}
