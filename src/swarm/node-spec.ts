import type { NodeAvailability, WireNodeSpec } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { inspectSwarmNode, listSwarmNodes } from './nodes.js';
import { retryOnVersionConflict } from './version-conflict.js';

export type SpecChange = (spec: WireNodeSpec) => WireNodeSpec;

/**
 * Read-modify-write of a node's spec: dockerd requires the object version and the complete spec
 * (fields left out are reset to defaults, e.g. the node's labels). Skips the write when nothing would
 * change. Returns whether it wrote.
 */
export function updateNodeSpec(manager: DockerClient, nodeId: string, operation: string, change: SpecChange): Promise<boolean> {
  return retryOnVersionConflict(async () => {
    const node = await inspectSwarmNode(manager, nodeId);
    if (node === undefined) {
      throw new SwarmError('api', { address: manager.endpoint, operation, nodeId }, 'no such node in the swarm', { statusCode: 404 });
    }
    const current = node.Spec ?? {};
    const wanted = change(current);
    if (sameSpec(current, wanted)) return false;
    await callDocker(manager, { operation, nodeId }, (docker) =>
      docker.getNode(nodeId).update({ _query: { version: node.Version?.Index ?? 0 }, _body: wanted }),
    );
    return true;
  });
}

function sameSpec(a: WireNodeSpec, b: WireNodeSpec): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** drain: the swarm moves the node's tasks elsewhere and places no new ones (before a dockerd restart). */
export function setAvailability(manager: DockerClient, nodeId: string, availability: Extract<NodeAvailability, 'active' | 'drain'>): Promise<boolean> {
  return updateNodeSpec(manager, nodeId, `set-availability-${availability}`, (spec) => ({ ...spec, Availability: availability }));
}

export function promote(manager: DockerClient, nodeId: string): Promise<boolean> {
  return updateNodeSpec(manager, nodeId, 'promote', (spec) => ({ ...spec, Role: 'manager' }));
}

/** Refused for the last manager: a swarm without one cannot be managed or recovered. */
export async function demote(manager: DockerClient, nodeId: string): Promise<boolean> {
  const managers = (await listSwarmNodes(manager)).filter((node) => node.role === 'manager');
  if (managers.length === 1 && managers[0]?.id === nodeId) {
    throw new SwarmError('quorum', { address: manager.endpoint, operation: 'demote', nodeId }, 'the last manager of a swarm cannot be demoted');
  }
  return updateNodeSpec(manager, nodeId, 'demote', (spec) => ({ ...spec, Role: 'worker' }));
}
