import type { HostAggregate, HostStatus } from '../../api/types.generated.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import type { HostRegistry } from '../host-registry.js';
import { HOST_AGGREGATE } from '../kinds.js';
import { probeHost } from './probe.js';
import { aggregateStatus, msUntilNextProbe } from './status.js';

export interface AggregateControllerDeps {
  readonly client: KubeClient;
  readonly aggregates: Informer<HostAggregate>;
  readonly registry: HostRegistry;
  readonly events: EventRecorder;
  /** How often every host is probed. */
  readonly probeIntervalMs: number;
  readonly now?: () => Date;
}

/** Probes the hosts of each HostAggregate and reports them in its status, with Events on changes. */
export function aggregateReconciler(deps: AggregateControllerDeps): Reconciler {
  const now = deps.now ?? (() => new Date());
  return async (req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const aggregate = deps.aggregates.store.get(req.key);
    deps.registry.retain(liveHostKeys(deps.aggregates.store.list()));
    if (!aggregate) return {};
    const wait = msUntilNextProbe(aggregate, deps.probeIntervalMs, now());
    if (wait > 0) return { requeueAfter: wait };

    const probedAt = now();
    const hosts = await Promise.all(
      aggregate.spec.hosts.map(async (host) => probeHost(host.name, await deps.registry.handle(aggregate, host, ctx.signal), aggregate, probedAt)),
    );
    await recordTransitions(deps.events, aggregate, hosts);
    await patchStatus(deps.client, HOST_AGGREGATE, aggregate, aggregateStatus(aggregate, hosts, probedAt), ctx.signal);
    ctx.log.debug({ ready: hosts.filter((h) => h.ready).length, hosts: hosts.length }, 'probed hosts');
    return { requeueAfter: deps.probeIntervalMs };
  };
}

function liveHostKeys(aggregates: readonly HostAggregate[]): Set<string> {
  return new Set(aggregates.flatMap((a) => a.spec.hosts.map((h) => `${a.metadata.name}/${h.name}`)));
}

async function recordTransitions(events: EventRecorder, aggregate: HostAggregate, hosts: readonly HostStatus[]): Promise<void> {
  const before = new Map((aggregate.status?.hosts ?? []).map((h) => [h.name, h]));
  for (const host of hosts) {
    const previous = before.get(host.name);
    if (previous?.ready === host.ready && previous?.reason === host.reason) continue;
    await events.record(aggregate, {
      type: host.ready ? 'Normal' : 'Warning',
      reason: host.ready ? 'HostReady' : `Host${host.reason ?? 'NotReady'}`,
      action: 'Probe',
      note: `host ${host.name}: ${host.message ?? ''}`,
    });
  }
}
