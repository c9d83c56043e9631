import type { WireNode } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { demote } from './node-spec.js';
import { inspectSwarmNode } from './nodes.js';
import { sleep } from './sleep.js';

export interface RemoveNodeOptions {
  /** How long to wait for a demoted manager to leave the raft group. Default 30 s. */
  readonly demotionTimeoutMs?: number;
}

/**
 * Removes a node from the swarm's membership, for a node that is confirmed gone (marina never
 * removes live nodes to shrink a bay). A manager is demoted first, and the removal waits until it has
 * left the raft group (dockerd refuses to remove a raft member). `force` is used only for a node the
 * swarm sees as down; removing a node that is still up fails with 'invalid-state'.
 * Returns false when the swarm had no such node.
 */
export async function removeNode(manager: DockerClient, nodeId: string, options: RemoveNodeOptions = {}): Promise<boolean> {
  const operation = 'remove-node';
  const node = await inspectSwarmNode(manager, nodeId);
  if (node === undefined) return false;
  const current = isManagerNode(node) ? await demoteAndWait(manager, nodeId, options.demotionTimeoutMs ?? 30_000) : node;
  if (current === undefined) return false;
  const force = current.Status?.State === 'down';
  await callDocker(manager, { operation, nodeId }, (docker) => docker.getNode(nodeId).remove({ force }));
  return true;
}

function isManagerNode(node: WireNode): boolean {
  return node.Spec?.Role === 'manager' || node.ManagerStatus !== undefined;
}

async function demoteAndWait(manager: DockerClient, nodeId: string, timeoutMs: number): Promise<WireNode | undefined> {
  await demote(manager, nodeId);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const node = await inspectSwarmNode(manager, nodeId);
    if (node === undefined || node.ManagerStatus === undefined) return node;
    if (Date.now() >= deadline) {
      throw new SwarmError('timeout', { address: manager.endpoint, operation: 'remove-node', nodeId }, `still a raft member ${timeoutMs} ms after demotion`);
    }
    await sleep(500);
  }
}
