import type { WireTask } from './api-types.js';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { setAvailability } from './node-spec.js';
import { sleep } from './sleep.js';
import { isOnNode, toSwarmTask } from './tasks.js';

/**
 * Drains a node and waits until none of its tasks is still running there: then its dockerd can be
 * restarted (for new certificates) without killing work the swarm could move. Setting the
 * availability returns at once; the swarm stops the tasks afterwards, each within its stop grace
 * period (10 s by default). Idempotent.
 */
export async function drainNode(manager: DockerClient, nodeId: string, deadline: Date): Promise<void> {
  await setAvailability(manager, nodeId, 'drain');
  for (;;) {
    const remaining = await tasksStillOnNode(manager, nodeId);
    if (remaining === 0) return;
    if (Date.now() >= deadline.getTime()) {
      throw new SwarmError('timeout', { address: manager.endpoint, operation: 'drain-node', nodeId }, `${remaining} task(s) still running on the node at ${deadline.toISOString()}`);
    }
    await sleep(Math.min(1_000, deadline.getTime() - Date.now()));
  }
}

async function tasksStillOnNode(manager: DockerClient, nodeId: string): Promise<number> {
  const tasks = (await callDocker(manager, { operation: 'drain-node', nodeId }, (docker) =>
    docker.listTasks({ filters: { node: [nodeId] } }),
  )) as WireTask[];
  return tasks.map(toSwarmTask).filter(isOnNode).length;
}

/**
 * Waits until every task the swarm has placed on a node is running: after a drained node comes back,
 * the replicas that moved away must run elsewhere before the next node is drained, or a service could
 * have none. Tasks the scheduler has not placed (no node has room) are not waited for.
 */
export async function waitForPlacedTasksRunning(manager: DockerClient, deadline: Date): Promise<void> {
  for (;;) {
    const tasks = (await callDocker(manager, { operation: 'wait-tasks-running' }, (docker) =>
      docker.listTasks({ filters: { 'desired-state': ['running'] } }),
    )) as WireTask[];
    const starting = tasks.map(toSwarmTask).filter((t) => isOnNode(t) && t.state !== 'running').length;
    if (starting === 0) return;
    if (Date.now() >= deadline.getTime()) {
      throw new SwarmError('timeout', { address: manager.endpoint, operation: 'wait-tasks-running' }, `${starting} task(s) placed but not running at ${deadline.toISOString()}`);
    }
    await sleep(Math.min(500, Math.max(0, deadline.getTime() - Date.now())));
  }
}

/** Running tasks per service, over the whole swarm. */
export async function runningTasksByService(manager: DockerClient): Promise<Map<string, number>> {
  const tasks = (await callDocker(manager, { operation: 'count-running-tasks' }, (docker) =>
    docker.listTasks({ filters: { 'desired-state': ['running'] } }),
  )) as WireTask[];
  const running = new Map<string, number>();
  for (const t of tasks.map(toSwarmTask)) {
    if (t.state === 'running') running.set(t.serviceId, (running.get(t.serviceId) ?? 0) + 1);
  }
  return running;
}

/**
 * Waits until every service runs at least as many tasks as `before` counted: after a node is drained for
 * good, its replicas must run elsewhere — not merely be placed (a replica placed on a node that cannot
 * start it, say without its image, serves nothing) — before the node may go. A service that was short
 * before the drain asks no more than it had.
 */
export async function waitForRunningTasksAtLeast(
  manager: DockerClient,
  before: ReadonlyMap<string, number>,
  deadline: Date,
): Promise<void> {
  for (;;) {
    const now = await runningTasksByService(manager);
    const short = [...before].filter(([service, count]) => (now.get(service) ?? 0) < count);
    if (short.length === 0) return;
    if (Date.now() >= deadline.getTime()) {
      const which = short.map(([service, count]) => `${service}: ${now.get(service) ?? 0} of ${count}`).join(', ');
      throw new SwarmError('timeout', { address: manager.endpoint, operation: 'wait-tasks-running' }, `services still short of the tasks they ran before the drain at ${deadline.toISOString()} (${which})`);
    }
    await sleep(Math.min(500, Math.max(0, deadline.getTime() - Date.now())));
  }
}
