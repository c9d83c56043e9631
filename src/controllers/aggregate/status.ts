import type { HostAggregate, HostAggregateStatus, HostStatus } from '../../api/types.generated.js';
import { formatTime, setCondition } from '../../runtime/conditions.js';
import type { ProbedHost } from './probe.js';

export const AGGREGATE_REASONS = { allHostsReady: 'AllHostsReady', hostsNotReady: 'HostsNotReady' } as const;

/**
 * The aggregate's status from its hosts' probe results: conditions are computed here and only here.
 * Nothing in it changes unless a host's state does — no probe timestamp — so an unchanged probe
 * writes nothing, and a watcher of aggregates is not woken every probe interval.
 */
export function aggregateStatus(aggregate: HostAggregate, probed: readonly ProbedHost[], now: Date): HostAggregateStatus {
  const before = new Map((aggregate.status?.hosts ?? []).map((h) => [h.name, h]));
  const hosts = probed.map((h) => withTransitionTime(h, before.get(h.name), now));
  const notReady = hosts.filter((h) => !h.ready);
  const generation = aggregate.metadata.generation;
  const ready =
    notReady.length === 0
      ? { type: 'Ready', status: 'True' as const, reason: AGGREGATE_REASONS.allHostsReady, message: `${hosts.length} of ${hosts.length} hosts ready` }
      : {
          type: 'Ready',
          status: 'False' as const,
          reason: AGGREGATE_REASONS.hostsNotReady,
          message: `${notReady.length} of ${hosts.length} hosts not ready: ${notReady.map((h) => `${h.name} (${h.reason}: ${h.message})`).join('; ')}`,
        };
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setCondition(aggregate.status?.conditions, { ...ready, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now),
    readyHosts: hosts.length - notReady.length,
    nodes: hosts.reduce((sum, h) => sum + (h.nodes ?? 0), 0),
    hosts,
  };
}

/** A host's transition time moves only when its readiness or reason does, as a condition's would. */
function withTransitionTime(host: ProbedHost, previous: HostStatus | undefined, now: Date): HostStatus {
  const same = previous && previous.ready === host.ready && previous.reason === host.reason && previous.lastTransitionTime;
  return { ...host, lastTransitionTime: same ? previous.lastTransitionTime! : formatTime(now) };
}

/** Whether a status change matters to bays: a host's readiness, or what hosts have and promise. */
export function hostsChanged(before: HostAggregateStatus | undefined, after: HostAggregateStatus | undefined): boolean {
  const shape = (s: HostAggregateStatus | undefined): string =>
    JSON.stringify((s?.hosts ?? []).map((h) => [h.name, h.ready, h.reason, h.capacity, h.allocated, h.nodes]));
  return shape(before) !== shape(after);
}
