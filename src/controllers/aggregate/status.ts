import type { HostAggregate, HostAggregateStatus, HostStatus } from '../../api/types.generated.js';
import { setCondition } from '../../runtime/conditions.js';

/** The aggregate's status from its hosts' probe results: conditions are computed here and only here. */
export function aggregateStatus(aggregate: HostAggregate, hosts: readonly HostStatus[], now: Date): HostAggregateStatus {
  const notReady = hosts.filter((h) => !h.ready);
  const generation = aggregate.metadata.generation;
  const ready =
    notReady.length === 0
      ? { type: 'Ready', status: 'True' as const, reason: 'AllHostsReady', message: `${hosts.length} of ${hosts.length} hosts ready` }
      : {
          type: 'Ready',
          status: 'False' as const,
          reason: 'HostsNotReady',
          message: `${notReady.length} of ${hosts.length} hosts not ready: ${notReady.map((h) => `${h.name} (${h.reason}: ${h.message})`).join('; ')}`,
        };
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    conditions: setCondition(aggregate.status?.conditions, { ...ready, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now),
    readyHosts: hosts.length - notReady.length,
    nodes: hosts.reduce((sum, h) => sum + (h.nodes ?? 0), 0),
    hosts: [...hosts],
  };
}

/**
 * Milliseconds until the aggregate is due for its next probe; 0 when it is due now. Writing status is a
 * watch event that triggers a reconcile, so without this every probe would cause the next one.
 */
export function msUntilNextProbe(aggregate: HostAggregate, intervalMs: number, now: Date): number {
  const status = aggregate.status;
  if (!status?.hosts?.length || status.observedGeneration !== aggregate.metadata.generation) return 0;
  const specHosts = new Set(aggregate.spec.hosts.map((h) => h.name));
  if (status.hosts.length !== specHosts.size || status.hosts.some((h) => !specHosts.has(h.name))) return 0;
  const oldest = Math.min(...status.hosts.map((h) => (h.lastProbeTime ? Date.parse(h.lastProbeTime) : 0)));
  return Math.max(0, oldest + intervalMs - now.getTime());
}
