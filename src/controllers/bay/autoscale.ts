import type { BayAutoscaleSpec } from '../../api/types.generated.js';
import { parseDuration } from '../../pki/index.js';
import type { Resources, SwarmUsage } from '../../swarm/index.js';

/**
 * Grow-only autoscaling, decided from one usage reading: pure, so the unit tests drive it with a
 * fake clock. Carina added a node when 80% of the reserved CPU or memory was used, checking every ten
 * minutes; this reacts on each reading, also to tasks that wait because no node has room, and asks
 * for as many nodes as bring reservations under the threshold in one step. The target is never
 * lowered and nothing here removes a node.
 */

export interface AutoscaleInput {
  readonly spec: BayAutoscaleSpec;
  /** The nodes the bay has or is growing to now: max(spec.nodes, target). */
  readonly desired: number;
  /** One node's resources: the flavor. */
  readonly perNode: Resources;
  readonly usage: SwarmUsage;
  readonly lastScaleUp: Date | undefined;
  readonly now: Date;
  /** The most nodes the namespace's node quota lets this bay have, and the quota in words. */
  readonly quota?: { readonly cap: number; readonly words: string };
}

export type AutoscaleDecision =
  | { readonly kind: 'steady' }
  /** Growth is asked for but cannot happen now (cooldown) or at all (maxNodes). */
  | { readonly kind: 'blocked'; readonly reason: AutoscaleBlock; readonly message: string; readonly retryAt?: Date }
  | { readonly kind: 'grow'; readonly target: number; readonly reason: string };

export type AutoscaleBlock = 'MaxNodesReached' | 'QuotaReached' | 'CoolingDown';

export function decideAutoscale(input: AutoscaleInput): AutoscaleDecision {
  const { spec, desired, perNode, usage, now } = input;
  const threshold = spec.thresholdPercent ?? 80;
  const pressure = pressureOf(usage, threshold);
  if (!pressure) return { kind: 'steady' };
  const maxNodes = spec.maxNodes ?? desired;
  if (desired >= maxNodes) {
    return {
      kind: 'blocked',
      reason: 'MaxNodesReached',
      message: `${pressure}, but the bay has its maxNodes (${maxNodes}); tasks may stay pending`,
    };
  }
  const quota = input.quota;
  if (quota && desired >= quota.cap) {
    return {
      kind: 'blocked',
      reason: 'QuotaReached',
      message: `${pressure}, but ${quota.words}; tasks may stay pending`,
    };
  }
  const cooldownMs = parseDuration(spec.cooldown ?? '1m');
  const until = input.lastScaleUp ? input.lastScaleUp.getTime() + cooldownMs : 0;
  if (now.getTime() < until) {
    return {
      kind: 'blocked',
      reason: 'CoolingDown',
      message: `${pressure}; the last scale-up was less than ${spec.cooldown} ago`,
      retryAt: new Date(until),
    };
  }
  const ceiling = Math.min(maxNodes, quota?.cap ?? Infinity);
  const target = Math.min(ceiling, Math.max(desired + 1, nodesFor(usage, perNode, threshold)));
  return { kind: 'grow', target, reason: `${pressure}: ${desired} → ${target} nodes` };
}

/** Why the bay needs room, in words with the figures; undefined when it does not. */
function pressureOf(usage: SwarmUsage, threshold: number): string | undefined {
  const reasons: string[] = [];
  if (usage.cpuPercent >= threshold) reasons.push(`reserved CPU ${usage.cpuPercent}% ≥ ${threshold}%`);
  if (usage.memoryPercent >= threshold) reasons.push(`reserved memory ${usage.memoryPercent}% ≥ ${threshold}%`);
  if (usage.waitingForRoom.tasks > 0) reasons.push(`${usage.waitingForRoom.tasks} task(s) pending for lack of room`);
  return reasons.length > 0 ? reasons.join(', ') : undefined;
}

/**
 * Nodes whose capacity holds what is reserved and what waits for room under the threshold: the
 * smallest n with demand ≤ n × node × threshold, for CPU and memory alike.
 */
export function nodesFor(usage: SwarmUsage, perNode: Resources, threshold: number): number {
  const demand = {
    nanoCpus: usage.reserved.nanoCpus + usage.waitingForRoom.reserved.nanoCpus,
    memoryBytes: usage.reserved.memoryBytes + usage.waitingForRoom.reserved.memoryBytes,
  };
  const share = threshold / 100;
  const need = (wanted: number, each: number): number => (each > 0 ? Math.ceil(wanted / (each * share) - 1e-9) : 0);
  return Math.max(need(demand.nanoCpus, perNode.nanoCpus), need(demand.memoryBytes, perNode.memoryBytes));
}

/**
 * Without lxcfs a node shows the host's memory (and, without a CPU limit, its CPUs) to dockerd, and the
 * swarm schedules by those figures. Said in status, so a tenant knows why tasks were placed where the
 * flavor has no room.
 */
export function capacityNote(usage: SwarmUsage, perNode: Resources): string | undefined {
  const differing = usage.nodes.filter(
    (n) => n.schedulable && (n.reportedMemoryBytes > perNode.memoryBytes || n.reportedNanoCpus > perNode.nanoCpus),
  );
  if (differing.length === 0) return undefined;
  const first = differing[0]!;
  const mib = (bytes: number): number => Math.round(bytes / 1024 ** 2);
  return (
    `${differing.length} node(s) report ${first.reportedNanoCpus / 1e9} CPUs and ${mib(first.reportedMemoryBytes)} MiB to the swarm, ` +
    `the flavor gives ${perNode.nanoCpus / 1e9} CPUs and ${mib(perNode.memoryBytes)} MiB (no lxcfs on the host?): ` +
    'the swarm places tasks by the reported figures; marina counts the flavor'
  );
}
