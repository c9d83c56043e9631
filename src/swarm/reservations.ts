import { isSchedulable, type SwarmNode } from './node-mapping.js';
import { awaitsPlacement, holdsReservation, waitsForRoom, type SwarmTask } from './tasks.js';

/**
 * Reserved versus available resources, the autoscaler's signal. Pure: the
 * inputs are what listSwarmNodes and the task list return.
 */

export interface Resources {
  readonly nanoCpus: number;
  readonly memoryBytes: number;
}

export interface NodeUsage {
  readonly nodeId: string;
  readonly hostname: string;
  /** Ready and active: counted in the swarm's totals. */
  readonly schedulable: boolean;
  readonly capacity: Resources;
  /** What the node's dockerd reports, before the cap at the flavor. */
  readonly reportedNanoCpus: number;
  readonly reportedMemoryBytes: number;
  readonly reserved: Resources;
  readonly tasks: number;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
}

export interface SwarmUsage {
  readonly nodes: readonly NodeUsage[];
  /** Over schedulable nodes only: a drained or down node offers nothing. */
  readonly capacity: Resources;
  readonly reserved: Resources;
  readonly cpuPercent: number;
  readonly memoryPercent: number;
  /** Tasks that want to run but have no node yet, and what they would reserve. */
  readonly waiting: { readonly tasks: number; readonly reserved: Resources };
  /** Of those, the ones no node has room for (insufficient resources), and what they would reserve. */
  readonly waitingForRoom: { readonly tasks: number; readonly reserved: Resources };
}

export interface UsageOptions {
  /**
   * What one node really has (the bay's flavor). Each node's reported capacity is capped at it: in
   * LXC without lxcfs dockerd reports the host's memory (and, without a cpuset, its CPUs), which would
   * make a bay look emptier than it is.
   */
  readonly nodeCapacity?: Resources;
}

export function aggregateUsage(nodes: readonly SwarmNode[], tasks: readonly SwarmTask[], options: UsageOptions = {}): SwarmUsage {
  const perNode = nodes.map((node) => nodeUsage(node, tasks.filter((task) => task.nodeId === node.id && holdsReservation(task)), options));
  const schedulable = perNode.filter((node) => node.schedulable);
  const capacity = sum(schedulable.map((node) => node.capacity));
  const reserved = sum(schedulable.map((node) => node.reserved));
  const waiting = tasks.filter(awaitsPlacement);
  const forRoom = tasks.filter(waitsForRoom);
  return {
    nodes: perNode,
    capacity,
    reserved,
    cpuPercent: percent(reserved.nanoCpus, capacity.nanoCpus),
    memoryPercent: percent(reserved.memoryBytes, capacity.memoryBytes),
    waiting: { tasks: waiting.length, reserved: sum(waiting.map(reservationOf)) },
    waitingForRoom: { tasks: forRoom.length, reserved: sum(forRoom.map(reservationOf)) },
  };
}

function nodeUsage(node: SwarmNode, tasks: readonly SwarmTask[], options: UsageOptions): NodeUsage {
  const capacity = cap({ nanoCpus: node.nanoCpus, memoryBytes: node.memoryBytes }, options.nodeCapacity);
  const reserved = sum(tasks.map(reservationOf));
  return {
    nodeId: node.id,
    hostname: node.hostname,
    schedulable: isSchedulable(node),
    capacity,
    reportedNanoCpus: node.nanoCpus,
    reportedMemoryBytes: node.memoryBytes,
    reserved,
    tasks: tasks.length,
    cpuPercent: percent(reserved.nanoCpus, capacity.nanoCpus),
    memoryPercent: percent(reserved.memoryBytes, capacity.memoryBytes),
  };
}

function reservationOf(task: SwarmTask): Resources {
  return { nanoCpus: task.reservedNanoCpus, memoryBytes: task.reservedMemoryBytes };
}

function cap(reported: Resources, limit: Resources | undefined): Resources {
  if (limit === undefined) return reported;
  return { nanoCpus: Math.min(reported.nanoCpus, limit.nanoCpus), memoryBytes: Math.min(reported.memoryBytes, limit.memoryBytes) };
}

function sum(amounts: readonly Resources[]): Resources {
  return amounts.reduce((total, amount) => ({ nanoCpus: total.nanoCpus + amount.nanoCpus, memoryBytes: total.memoryBytes + amount.memoryBytes }), {
    nanoCpus: 0,
    memoryBytes: 0,
  });
}

/** Percent rounded to one decimal; reservations with no capacity at all count as full. */
export function percent(part: number, whole: number): number {
  if (whole <= 0) return part > 0 ? 100 : 0;
  return Math.round((part / whole) * 1000) / 10;
}
