import type { HostAggregate, HostStatus } from '../../api/types.generated.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import { hostKey } from '../bay/names.js';
import { inventoryKeyOf, type HostInventory } from '../hosts/inventory.js';
import type { HostRegistry } from '../hosts/registry.js';
import { HOST_AGGREGATE, type SecretObject } from '../kinds.js';
import type { MarinaMetrics } from '../metrics.js';
import { KernelModuleSightings } from './capabilities.js';
import { HOST_READY, probeHost, type ProbedHost } from './probe.js';
import { isDue, nextDueInMs, recordProbe, type HostProbeRecord } from './probe-schedule.js';
import { aggregateStatus } from './status.js';

export interface AggregateControllerDeps {
  readonly client: KubeClient;
  readonly aggregates: Informer<HostAggregate>;
  readonly registry: HostRegistry;
  readonly inventory: HostInventory;
  readonly events: EventRecorder;
  readonly metrics?: MarinaMetrics;
  /** Reads a host credentials Secret from the cache (its version decides whether to probe again at once). */
  readonly secret: (namespace: string, name: string) => SecretObject | undefined;
  /** How often every host is probed. */
  readonly probeIntervalMs: number;
  readonly now?: () => Date;
}

interface LastProbes {
  /** The aggregate's generation and its credentials Secrets' versions at those probes. */
  readonly inputs: string;
  readonly hosts: ReadonlyMap<string, HostProbeRecord>;
}

/**
 * Probes the hosts of each HostAggregate and reports them in its status, with Events on changes.
 * The probe schedule is kept in memory, not in status: a probe that finds nothing new writes nothing.
 * A new spec or new credentials are probed at once; a host with a fault only a person can cure is
 * probed less and less often (probe-schedule.ts).
 */
export function aggregateReconciler(deps: AggregateControllerDeps): Reconciler {
  const now = deps.now ?? (() => new Date());
  const lastProbes = new Map<string, LastProbes>();
  const sightings = new KernelModuleSightings();
  return async (req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> => {
    forgetHostsNoLongerListed(deps);
    const aggregate = deps.aggregates.store.get(req.key);
    if (!aggregate) {
      lastProbes.delete(req.key);
      return {};
    }
    const inputs = probeInputs(aggregate, deps.secret);
    const previous = lastProbes.get(req.key);
    const before = previous?.inputs === inputs ? previous.hosts : new Map<string, HostProbeRecord>();
    const probedAt = now();
    const due = aggregate.spec.hosts.filter((h) => isDue(before.get(h.name), deps.probeIntervalMs, probedAt.getTime()));
    if (due.length === 0) return { requeueAfter: nextDueInMs(before.values(), deps.probeIntervalMs, probedAt.getTime()) };

    const name = aggregate.metadata.name!;
    const results = await Promise.all(
      due.map((host) => {
        const handle = deps.registry.handle(aggregate, host);
        return probeHost(host.name, inventoryKeyOf(host), handle, aggregate, deps.inventory, sightings);
      }),
    );
    const records = new Map<string, HostProbeRecord>();
    for (const host of aggregate.spec.hosts) {
      const result = results.find((r) => r.name === host.name);
      const kept = before.get(host.name);
      if (result) records.set(host.name, recordProbe(kept, result, probedAt.getTime()));
      else if (kept) records.set(host.name, kept);
    }
    lastProbes.set(req.key, { inputs, hosts: records });
    for (const host of results) deps.metrics?.probed(name, host.name, host.ready ? HOST_READY : (host.reason ?? 'NotReady'));
    const hosts = [...records.values()].map((r) => r.result);
    await recordTransitions(deps.events, aggregate, hosts, ctx.log);
    const written = await patchStatus(deps.client, HOST_AGGREGATE, aggregate, aggregateStatus(aggregate, hosts, probedAt), ctx.signal);
    deps.aggregates.observeWrite(written);
    ctx.log.debug({ ready: hosts.filter((h) => h.ready).length, hosts: hosts.length, wrote: written !== undefined }, 'probed hosts');
    return { requeueAfter: nextDueInMs(records.values(), deps.probeIntervalMs, probedAt.getTime()) };
  };
}

function probeInputs(aggregate: HostAggregate, secret: AggregateControllerDeps['secret']): string {
  const versions = aggregate.spec.hosts.map((h) => {
    const ref = h.credentialsSecretRef;
    return ref ? (secret(ref.namespace, ref.name)?.metadata.resourceVersion ?? 'missing') : '';
  });
  return JSON.stringify([aggregate.metadata.generation, versions]);
}

function forgetHostsNoLongerListed(deps: AggregateControllerDeps): void {
  const hosts = deps.aggregates.store.list().flatMap((a) => a.spec.hosts.map((h) => ({ aggregate: a.metadata.name!, host: h })));
  deps.registry.retain(new Set(hosts.map(({ aggregate, host }) => hostKey(aggregate, host.name))));
  deps.inventory.retain(new Set(hosts.map(({ host }) => inventoryKeyOf(host))));
}

async function recordTransitions(
  events: EventRecorder,
  aggregate: HostAggregate,
  hosts: readonly ProbedHost[],
  log: ReconcileContext['log'],
): Promise<void> {
  const before = new Map<string, HostStatus>((aggregate.status?.hosts ?? []).map((h) => [h.name, h]));
  for (const host of hosts) {
    const previous = before.get(host.name);
    if (previous?.ready === host.ready && previous?.reason === host.reason) continue;
    // The operator's log keeps what the Event says, after the Event has expired.
    if (!host.ready) log.warn({ host: host.name, reason: host.reason, detail: host.message }, 'host not ready');
    else if (previous) log.info({ host: host.name }, 'host ready again');
    await events.record(aggregate, {
      type: host.ready ? 'Normal' : 'Warning',
      reason: host.ready ? 'HostReady' : `Host${host.reason ?? 'NotReady'}`,
      action: 'Probe',
      note: `host ${host.name}: ${host.message ?? ''}`,
    });
  }
}
