import type { Bay, HostAggregate } from '../api/types.generated.js';
import type { Manager } from '../runtime/manager.js';
import { aggregateReconciler } from './aggregate/controller.js';
import { PlacementLedger } from './bay/placement.js';
import { bayReconciler } from './bay/reconcile.js';
import { DEFAULT_NODE_TIMEOUTS } from './bay/nodes.js';
import { HostRegistry } from './host-registry.js';
import { BAY, HOST_AGGREGATE, SECRET } from './kinds.js';
import type { KubeObject } from '../runtime/resource.js';

export interface OperatorOptions {
  /** How often every host of every aggregate is probed. */
  readonly probeIntervalMs?: number;
  /** How often a Ready bay is checked again. */
  readonly bayResyncMs?: number;
  /** How soon a bay that is not Ready yet is looked at again. */
  readonly bayRetryMs?: number;
  readonly bayConcurrency?: number;
}

/**
 * marina's two controllers on one manager. Bays watch their own Secrets (a deleted credentials Secret is
 * put back) and every HostAggregate (a host coming back, or a new one, may let a waiting bay proceed).
 */
export function registerControllers(mgr: Manager, opts: OperatorOptions = {}): { registry: HostRegistry } {
  const registry = new HostRegistry(mgr.client, mgr.log.child({ component: 'hosts' }));
  const aggregates = mgr.informer<HostAggregate>(HOST_AGGREGATE);
  const bays = mgr.informer<Bay>(BAY);
  const secrets = mgr.informer<KubeObject>(SECRET, { labelSelector: 'app.kubernetes.io/managed-by=marina' });

  mgr.addController<HostAggregate>({
    name: 'hostaggregate',
    for: aggregates,
    reconcile: aggregateReconciler({ client: mgr.client, aggregates, registry, events: mgr.eventRecorder('marina.dev/hostaggregate-controller'), probeIntervalMs: opts.probeIntervalMs ?? 30_000 }),
    maxConcurrentReconciles: 2,
  });
  mgr.addController<Bay>({
    name: 'bay',
    for: bays,
    owns: [secrets],
    // The same shared informer, seen as plain objects; only bays not Ready yet can gain from a host change.
    watches: [{ informer: mgr.informer<KubeObject>(HOST_AGGREGATE), map: () => bays.store.list().filter((b) => b.status?.phase !== 'Ready').map((b) => `${b.metadata.namespace}/${b.metadata.name}`) }],
    reconcile: bayReconciler({
      client: mgr.client,
      bays,
      aggregates,
      registry,
      events: mgr.eventRecorder('marina.dev/bay-controller'),
      ledger: new PlacementLedger(),
      timeouts: DEFAULT_NODE_TIMEOUTS,
      resyncMs: opts.bayResyncMs ?? 60_000,
      retryMs: opts.bayRetryMs ?? 5_000,
    }),
    maxConcurrentReconciles: opts.bayConcurrency ?? 4,
  });
  return { registry };
}
