import { isSchedulable, type SwarmNode } from './node-mapping.js';

/**
 * Raft arithmetic for swarm managers (docker docs, "Administer and maintain a swarm"): a majority of
 * managers must be reachable for the swarm to accept changes. Odd counts only — an even count
 * tolerates no more failures than the odd count below it — and at most seven.
 */

export const VALID_MANAGER_COUNTS = [1, 3, 5, 7] as const;
export type ManagerCount = (typeof VALID_MANAGER_COUNTS)[number];

export function isValidManagerCount(count: number): count is ManagerCount {
  return (VALID_MANAGER_COUNTS as readonly number[]).includes(count);
}

/** Managers that must be reachable: ⌊n/2⌋ + 1. */
export function quorumSize(managers: number): number {
  return Math.floor(managers / 2) + 1;
}

/** Managers that may be lost without losing quorum: ⌊(n−1)/2⌋. */
export function managersToTolerate(managers: number): number {
  return managers <= 0 ? 0 : Math.floor((managers - 1) / 2);
}

export interface QuorumStatus {
  readonly managers: number;
  readonly reachable: number;
  readonly quorum: number;
  readonly hasQuorum: boolean;
  readonly leaderId: string | undefined;
}

export function quorumStatus(nodes: readonly SwarmNode[]): QuorumStatus {
  const managers = nodes.filter((node) => node.role === 'manager' && node.managerReachability !== undefined);
  const reachable = managers.filter((node) => node.managerReachability === 'reachable').length;
  const quorum = quorumSize(managers.length);
  return { managers: managers.length, reachable, quorum, hasQuorum: reachable >= quorum, leaderId: managers.find((node) => node.leader)?.id };
}

/**
 * Whether a node may be taken down now (drained, dockerd restarted), one node at a time:
 * - 'safe': a worker, or a manager whose peers keep quorum without it while a leader exists;
 * - 'wait': another manager is unreachable (likely the previous one, still restarting): ask again later;
 * - 'brief-outage': the only manager. Quorum cannot be kept, waiting will not help: the swarm API
 *   pauses while it restarts, running tasks keep running. Do it last.
 */
export type TakeDownVerdict = 'safe' | 'wait' | 'brief-outage';

export function takeDownVerdict(nodes: readonly SwarmNode[], nodeId: string): TakeDownVerdict {
  const node = nodes.find((candidate) => candidate.id === nodeId);
  if (node === undefined || node.role !== 'manager') return 'safe';
  const status = quorumStatus(nodes);
  if (status.managers <= 1) return 'brief-outage';
  const remaining = status.reachable - (node.managerReachability === 'reachable' ? 1 : 0);
  return status.leaderId !== undefined && remaining >= status.quorum ? 'safe' : 'wait';
}

/**
 * Why a bay cannot have `desired` managers, or undefined when it can: the count must be 1, 3, 5 or
 * 7, must not fall below the managers the swarm has (marina never demotes to reach a count), and
 * cannot exceed the nodes there are.
 */
export function managerCountProblem(desired: number, nodes: readonly SwarmNode[]): string | undefined {
  const current = nodes.filter((node) => node.role === 'manager').length;
  if (!isValidManagerCount(desired)) return `managers must be one of ${VALID_MANAGER_COUNTS.join(', ')}, not ${desired}`;
  if (desired < current) return `the swarm already has ${current} managers; marina never reduces them to ${desired}`;
  if (desired > nodes.length) return `${desired} managers need at least ${desired} nodes; the swarm has ${nodes.length}`;
  return undefined;
}

/**
 * The worker to promote next while managers are fewer than desired: a ready, active one, picked by
 * hostname so every reconcile chooses the same. One at a time, so that the raft group grows by one
 * member and settles before the next.
 */
export function nextManagerToPromote(nodes: readonly SwarmNode[], desired: number): SwarmNode | undefined {
  const managers = nodes.filter((node) => node.role === 'manager').length;
  if (managers >= desired) return undefined;
  return nodes.filter((node) => node.role === 'worker' && isSchedulable(node)).sort((a, b) => a.hostname.localeCompare(b.hostname))[0];
}
