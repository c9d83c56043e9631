import type { WireTask } from './api-types.js';

/** A task as the usage aggregation needs it. */
export interface SwarmTask {
  readonly id: string;
  readonly serviceId: string;
  /** Empty until the scheduler has assigned the task to a node. */
  readonly nodeId: string | undefined;
  readonly desiredState: string;
  readonly state: string;
  /** Reservations only: swarm's scheduler places by reservations, limits do not count. */
  readonly reservedNanoCpus: number;
  readonly reservedMemoryBytes: number;
  /** Why the task is where it is, as the scheduler says (`no suitable node (insufficient resources on 2 nodes)`). */
  readonly statusMessage: string;
}

export function toSwarmTask(task: WireTask): SwarmTask {
  const reservations = task.Spec?.Resources?.Reservations;
  return {
    id: task.ID ?? '',
    serviceId: task.ServiceID ?? '',
    nodeId: task.NodeID || undefined,
    desiredState: task.DesiredState ?? '',
    state: task.Status?.State ?? '',
    reservedNanoCpus: reservations?.NanoCPUs ?? 0,
    reservedMemoryBytes: reservations?.MemoryBytes ?? 0,
    statusMessage: task.Status?.Err || task.Status?.Message || '',
  };
}

/** States in which a task holds its reservation on the node it was assigned to. */
const HOLDING_STATES = new Set(['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);
/** States before the scheduler found a node: such a task waits for capacity. */
const WAITING_STATES = new Set(['new', 'allocated', 'pending']);

/** Meant to run and placed on a node: its reservation counts against that node's capacity. */
export function holdsReservation(task: SwarmTask): boolean {
  return task.desiredState === 'running' && isOnNode(task);
}

/** Placed on a node and not finished, whatever its desired state (a task being shut down still runs). */
export function isOnNode(task: SwarmTask): boolean {
  return task.nodeId !== undefined && HOLDING_STATES.has(task.state);
}

/** Meant to run but not placed yet — with reservations, typically because no node has room. */
export function awaitsPlacement(task: SwarmTask): boolean {
  return task.desiredState === 'running' && WAITING_STATES.has(task.state);
}

/**
 * Not placed because no node has the CPU or memory it reserves: what a new node cures. Tasks waiting
 * for something else (a constraint no node meets, an image) are not counted.
 */
export function waitsForRoom(task: SwarmTask): boolean {
  return awaitsPlacement(task) && /insufficient resources/i.test(task.statusMessage);
}
