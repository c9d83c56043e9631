import type { WireNode } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { toSwarmNode, type SwarmNode } from './node-mapping.js';

/** Every node of the swarm, as a manager sees it. Sorted by hostname so results compare stably. */
export async function listSwarmNodes(manager: DockerClient): Promise<SwarmNode[]> {
  const nodes = (await callDocker(manager, { operation: 'list-nodes' }, (docker) => docker.listNodes())) as WireNode[];
  return nodes.map(toSwarmNode).sort((a, b) => a.hostname.localeCompare(b.hostname) || a.id.localeCompare(b.id));
}

/** One node, or undefined when the swarm has no node with that ID. */
export async function inspectSwarmNode(manager: DockerClient, nodeId: string): Promise<WireNode | undefined> {
  try {
    return (await callDocker(manager, { operation: 'inspect-node', nodeId }, (docker) => docker.getNode(nodeId).inspect())) as WireNode;
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return undefined;
    throw error;
  }
}
