import type { Bay, HostAggregate } from '../api/types.generated.js';
import type { KeyMapper } from '../runtime/controller.js';
import type { Informer } from '../runtime/informer.js';
import type { Manager } from '../runtime/manager.js';
import { generationChanged, labelsChanged, specOrMetadataChanged, type UpdatePredicate } from '../runtime/predicates.js';
import { objectKey, type KubeObject } from '../runtime/resource.js';
import { selectorMatches } from '../scheduler/index.js';
import { aggregateReconciler } from './aggregate/controller.js';
import { hostsChanged } from './aggregate/status.js';
import { DEFAULT_NODE_TIMEOUTS, type NodeDockerFactory, type NodeTimeouts, type ServedCertificateReader } from './bay/deps.js';
import { nodeDocker, nodeServedCertificate } from './bay/nodes.js';
import { PlacementLedger } from './bay/placement.js';
import { NodeAddressBook } from './bay/node-addresses.js';
import { MAX_NODES_ANNOTATION, NodeQuotaLedger } from './bay/quota.js';
import { REASONS } from './bay/reasons.js';
import { bayReconciler } from './bay/reconcile.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from './bay/secrets.js';
import { HostInventory } from './hosts/inventory.js';
import { HostRegistry, type HostProviderFactory } from './hosts/registry.js';
import { BAY, HOST_AGGREGATE, NAMESPACE, SECRET, type NamespaceObject, type SecretObject } from './kinds.js';
import { MarinaMetrics } from './metrics.js';

export interface OperatorOptions {
  /** The operator's own namespace: host credentials Secrets are read from it (and from `credentialNamespaces`). */
  readonly namespace: string;
  /** More namespaces an admin allows host credentials Secrets in. */
  readonly credentialNamespaces?: readonly string[];
  /** How often every host of every aggregate is probed (and observed for bays). */
  readonly probeIntervalMs?: number;
  /** How often a Ready bay's swarm is checked again; changes on hosts and in Kubernetes wake bays sooner. */
  readonly bayResyncMs?: number;
  /** How soon a bay whose nodes are still booting or joining is looked at again. */
  readonly bayRetryMs?: number;
  /** How often an autoscaled bay's reservations are read from a manager. */
  readonly bayUsageIntervalMs?: number;
  readonly bayConcurrency?: number;
  /** Builds host providers; the LXD/Incus client unless a benchmark simulates hosts. */
  readonly hostFactory?: HostProviderFactory;
  /** Connects to a node's dockerd; mutual TLS over the network unless a benchmark simulates nodes. */
  readonly docker?: NodeDockerFactory;
  readonly servedCertificate?: ServedCertificateReader;
  readonly timeouts?: NodeTimeouts;
}

export interface Operator {
  readonly registry: HostRegistry;
  readonly inventory: HostInventory;
  readonly metrics: MarinaMetrics;
}

const DEFAULT_PROBE_INTERVAL_MS = 30_000;
const DEFAULT_BAY_RESYNC_MS = 5 * 60_000;
const DEFAULT_BAY_RETRY_MS = 2_000;
/** Autoscaled bays only: two calls to a manager, no Kubernetes request unless the figures change. */
const DEFAULT_BAY_USAGE_INTERVAL_MS = 5_000;
/** Transient bay failures are retried after 1 s, 2 s, 4 s … up to 5 minutes. */
const BAY_BACKOFF = { baseMs: 1_000, maxMs: 5 * 60_000 };

/**
 * marina's two controllers on one manager. Everything is read from shared informers; the apiserver
 * is called to write. Bays wake on their spec and annotations, their own Secrets, aggregate changes
 * that concern them, namespace label changes, and host observations that show their nodes changed —
 * never on their own status writes.
 */
export function registerControllers(mgr: Manager, opts: OperatorOptions): Operator {
  const probeIntervalMs = opts.probeIntervalMs ?? DEFAULT_PROBE_INTERVAL_MS;
  const aggregates = mgr.informer<HostAggregate>(HOST_AGGREGATE);
  const bays = mgr.informer<Bay>(BAY);
  const namespaces = mgr.informer<NamespaceObject>(NAMESPACE);
  const owned = mgr.informer<SecretObject>(SECRET, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` });
  const credentialNamespaces = new Set([opts.namespace, ...(opts.credentialNamespaces ?? [])]);
  const credentialSecrets = new Map([...credentialNamespaces].map((ns) => [ns, mgr.informer<SecretObject>(SECRET, { namespace: ns })]));
  const secret = (namespace: string, name: string): SecretObject | undefined => credentialSecrets.get(namespace)?.get(`${namespace}/${name}`);

  const metrics = new MarinaMetrics(mgr.metrics.registry, () => bays.store.list());
  const registry = new HostRegistry({
    secret,
    credentialNamespaces,
    log: mgr.log.child({ component: 'hosts' }),
    observeCall: metrics.hostCall,
    ...(opts.hostFactory ? { factory: opts.hostFactory } : {}),
  });
  let wakeBays: (uids: ReadonlySet<string>) => void = () => {};
  const inventory = new HostInventory((uids) => wakeBays(uids), Date.now, 2 * probeIntervalMs);

  mgr.addController<HostAggregate>({
    name: 'hostaggregate',
    for: aggregates,
    updates: specOrMetadataChanged as UpdatePredicate<HostAggregate>,
    watches: [...credentialSecrets.values()].map((informer) => ({ informer: informer as Informer<KubeObject>, map: aggregatesUsing(aggregates) })),
    reconcile: aggregateReconciler({
      client: mgr.client,
      aggregates,
      registry,
      inventory,
      secret,
      metrics,
      events: mgr.eventRecorder('marina.dev/hostaggregate-controller'),
      probeIntervalMs,
    }),
    maxConcurrentReconciles: 2,
  });
  const bayController = mgr.addController<Bay>({
    name: 'bay',
    for: bays,
    updates: specOrMetadataChanged as UpdatePredicate<Bay>,
    owns: [owned as Informer<KubeObject>],
    watches: [
      { informer: aggregates as Informer<KubeObject>, updates: aggregateMattersToBays, map: baysServedBy(bays) },
      { informer: namespaces as Informer<KubeObject>, updates: namespaceMattersToBays, map: waitingBaysIn(bays) },
      // A bay gone frees its nodes' share of the namespace's quota for the bays it held back.
      { informer: bays as Informer<KubeObject>, updates: () => false, map: baysHeldByQuotaBeside(bays) },
    ],
    backoff: BAY_BACKOFF,
    reconcile: bayReconciler({
      client: mgr.client,
      bays,
      aggregates,
      namespaces,
      secrets: { client: mgr.client, operatorNamespace: opts.namespace, cached: (ns, name) => owned.get(`${ns}/${name}`), wrote: (s) => owned.observeWrite(s) },
      registry,
      inventory,
      events: mgr.eventRecorder('marina.dev/bay-controller'),
      ledger: new PlacementLedger(),
      quotaLedger: new NodeQuotaLedger(),
      addressBook: new NodeAddressBook(),
      docker: opts.docker ?? nodeDocker,
      servedCertificate: opts.servedCertificate ?? nodeServedCertificate,
      metrics,
      timeouts: opts.timeouts ?? DEFAULT_NODE_TIMEOUTS,
      timing: {
        resyncMs: opts.bayResyncMs ?? DEFAULT_BAY_RESYNC_MS,
        retryMs: opts.bayRetryMs ?? DEFAULT_BAY_RETRY_MS,
        hostMaxAgeMs: 2 * probeIntervalMs,
        usageIntervalMs: opts.bayUsageIntervalMs ?? DEFAULT_BAY_USAGE_INTERVAL_MS,
      },
    }),
    maxConcurrentReconciles: opts.bayConcurrency ?? 4,
  });
  wakeBays = (uids) => {
    for (const bay of bays.store.list()) if (uids.has(bay.metadata.uid ?? '')) bayController.queue.add(objectKey(bay));
  };
  return { registry, inventory, metrics };
}

/** A new spec, or hosts whose readiness or room changed; probe results that change nothing never get here. */
const aggregateMattersToBays: UpdatePredicate = (a, b) =>
  generationChanged(a, b) || hostsChanged((a as HostAggregate).status, (b as HostAggregate).status);

/**
 * Bays an aggregate change can concern: those with nodes on it (a host gone or back, settings changed),
 * and those not Ready yet that may use it (room for their nodes). Bays it cannot serve are left alone.
 */
function baysServedBy(bays: Informer<Bay>): KeyMapper {
  return (obj) => {
    const aggregate = obj as HostAggregate;
    const name = aggregate.metadata.name;
    return bays.store.list().flatMap((bay) => {
      const hasNodes = (bay.status?.nodes ?? []).some((n) => n.aggregate === name);
      const waiting = bay.status?.phase !== 'Ready' && selectorMatches(bay.spec.aggregateSelector, aggregate.spec.metadata ?? {});
      return hasNodes || waiting ? [objectKey(bay)] : [];
    });
  };
}

/** A namespace's labels decide which aggregates allow it: its bays still waiting may now fit. */
/** Its labels (which aggregates it may use) or its node quota changed. */
const namespaceMattersToBays: UpdatePredicate<KubeObject> = (a, b) =>
  labelsChanged(a, b) ||
  a.metadata.annotations?.[MAX_NODES_ANNOTATION] !== b.metadata.annotations?.[MAX_NODES_ANNOTATION];

function baysHeldByQuotaBeside(bays: Informer<Bay>): KeyMapper {
  const held = (b: Bay): boolean =>
    b.status?.conditions?.some((c) => c.type === 'NodesReady' && c.reason === REASONS.quotaExceeded) === true;
  return (obj) =>
    bays.store
      .list()
      .filter((b) => b.metadata.namespace === obj.metadata.namespace && b.metadata.uid !== obj.metadata.uid && held(b))
      .map(objectKey);
}

function waitingBaysIn(bays: Informer<Bay>): KeyMapper {
  return (obj) => bays.store.list().filter((b) => b.metadata.namespace === obj.metadata.name && b.status?.phase !== 'Ready').map(objectKey);
}

/** Aggregates whose hosts take their credentials from this Secret. */
function aggregatesUsing(aggregates: Informer<HostAggregate>): KeyMapper {
  return (obj) =>
    aggregates.store
      .list()
      .filter((a) => a.spec.hosts.some((h) => h.credentialsSecretRef?.namespace === obj.metadata.namespace && h.credentialsSecretRef?.name === obj.metadata.name))
      .map(objectKey);
}
