import type { WireTask } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { listSwarmNodes } from './nodes.js';
import { aggregateUsage, type SwarmUsage, type UsageOptions } from './reservations.js';
import { toSwarmTask } from './tasks.js';

/** The swarm's reserved CPU and memory per node and in total, read from a manager. */
export async function usage(manager: DockerClient, options: UsageOptions = {}): Promise<SwarmUsage> {
  const [nodes, tasks] = await Promise.all([
    listSwarmNodes(manager),
    callDocker(manager, { operation: 'list-tasks' }, (docker) => docker.listTasks({ filters: { 'desired-state': ['running'] } })) as Promise<WireTask[]>,
  ]);
  return aggregateUsage(nodes, tasks.map(toSwarmTask), options);
}
