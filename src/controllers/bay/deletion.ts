import type { Bay } from '../../api/types.generated.js';
import { formatTime } from '../../runtime/conditions.js';
import { bayBridgeName, type HostProvider } from '../../hosts/index.js';
import { isNotFound } from '../../runtime/errors.js';
import { hasFinalizer, removeFinalizer } from '../../runtime/finalizers.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { ReconcileContext, ReconcileResult } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import { BAY, SECRET, type SecretObject } from '../kinds.js';
import type { BayControllerDeps } from './deps.js';
import { discoverBayNodes, type Discovery } from './discovery.js';
import { BayRetryError } from './failures.js';
import { FINALIZER, hostKey, RELEASE_UNREACHABLE_ANNOTATION } from './names.js';
import { REASONS } from './reasons.js';
import { BAY_LABEL, BAY_UID_LABEL, deleteSecret } from './secrets.js';
import { deletionStatus } from './status.js';

/**
 * A deleted bay: under `Delete` its nodes and Secrets are removed; under `Retain` the nodes keep running
 * and its Secrets are released from the bay (so the tenant keeps the credentials to reach them). The
 * finalizer goes only when nothing is left behind — or when an admin releases nodes on hosts that are
 * gone for good with the release annotation. The condition says what is left meanwhile. Hosts are
 * observed afresh: a deletion must not miss a node an old observation did not show.
 */
export async function finalizeBay(deps: BayControllerDeps, bay: Bay, ctx: ReconcileContext): Promise<ReconcileResult> {
  if (!hasFinalizer(bay, FINALIZER)) return {};
  const discovery = await discoverBayNodes(bay, deps.aggregates.store.list(), deps.registry, deps.inventory, 0);
  if (bay.spec.deletionPolicy === 'Retain') {
    const released = await releaseNodes(deps, bay, discovery);
    await releaseSecrets(deps.client, bay, ctx.signal);
    await deleteInternalSecrets(deps, bay, ctx.signal);
    await removeFinalizer(deps.client, BAY, bay, FINALIZER);
    deps.quotaLedger.forget(bay);
    ctx.log.info({ released }, 'bay deleted; its nodes keep running, unmanaged');
    return {};
  }
  const left = await deleteNodes(deps, bay, discovery);
  const released = bay.metadata.annotations?.[RELEASE_UNREACHABLE_ANNOTATION] === 'true';
  if (left.length > 0 && !released) {
    const status = deletionStatus(bay, left, RELEASE_UNREACHABLE_ANNOTATION, new Date());
    deps.bays.observeWrite(await patchStatus(deps.client, BAY, bay, status, ctx.signal));
    const note = status.conditions?.find((c) => c.type === 'Ready')?.message ?? '';
    await deps.events.record(bay, { type: 'Warning', reason: REASONS.deletionBlocked, action: 'Delete', note });
    deps.metrics?.reconcileError('bay', REASONS.deletionBlocked);
    // Retried with backoff, not on a timer: the hosts may be gone for hours. A host coming back wakes the bay.
    throw new BayRetryError([
      { phase: 'nodes', kind: 'transient', reason: REASONS.deletionBlocked, message: note, cause: undefined },
    ]);
  }
  if (left.length > 0) {
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'NodesReleased',
      action: 'Delete',
      note: `released without deleting: ${left.join('; ')} (at ${formatTime(new Date())})`,
    });
  }
  await deleteBayNetworks(deps, bay, discovery);
  await deleteSecrets(deps.client, bay, ctx.signal);
  await deleteInternalSecrets(deps, bay, ctx.signal);
  await removeFinalizer(deps.client, BAY, bay, FINALIZER);
  deps.quotaLedger.forget(bay);
  ctx.log.info('bay deleted with its nodes');
  return {};
}

/** Deletes every node found on a reachable host; returns what could not be deleted, with the reason. */
async function deleteNodes(deps: BayControllerDeps, bay: Bay, discovery: Discovery): Promise<string[]> {
  const left: string[] = [];
  await Promise.all(
    discovery.discovered.map(async (node) => {
      const ref = discovery.hosts.get(hostKey(node.aggregate, node.host));
      try {
        await ref!.provider!.deleteNode(node.name);
        deps.inventory.dropNode(ref!.inventoryKey, node.name);
        await deps.events.record(bay, {
          type: 'Normal',
          reason: 'NodeDeleted',
          action: 'Delete',
          note: `node ${node.name} deleted from host ${node.host}`,
        });
      } catch (err) {
        left.push(`${node.name} on ${node.host} (${err instanceof Error ? err.message : String(err)})`);
      }
    }),
  );
  for (const recorded of bay.status?.nodes ?? []) {
    const why = discovery.unreachable.get(hostKey(recorded.aggregate ?? '', recorded.host ?? ''));
    if (why !== undefined) left.push(`${recorded.name} on unreachable host ${recorded.host} (${why})`);
  }
  return left;
}

/**
 * The bay's own bridges (isolated mode), once its nodes are gone: every reachable host of the bay's
 * aggregates is asked, since a bridge may exist where a node was placed but never made. A host that
 * refuses (a node still attached) keeps the finalizer: the deletion is retried.
 */
async function deleteBayNetworks(deps: BayControllerDeps, bay: Bay, discovery: Discovery): Promise<void> {
  const name = bayBridgeName(bay.metadata.uid!);
  const machines = new Map<string, HostProvider>();
  for (const ref of discovery.hosts.values()) {
    if (ref.provider && ref.aggregate.spec.network.mode === 'isolated') machines.set(ref.inventoryKey, ref.provider);
  }
  await Promise.all(
    [...machines.values()].map(async (provider) => {
      if (await provider.deleteBayNetwork(name)) {
        await deps.events.record(bay, {
          type: 'Normal',
          reason: 'NetworkDeleted',
          action: 'Delete',
          note: `the bay's bridge ${name} deleted from host ${provider.name}`,
        });
      }
    }),
  );
}

/** Under Retain: every node found is marked unmanaged, so that marina never adopts or deletes it again. */
async function releaseNodes(deps: BayControllerDeps, bay: Bay, discovery: Discovery): Promise<string[]> {
  const released: string[] = [];
  for (const node of discovery.discovered) {
    const ref = discovery.hosts.get(hostKey(node.aggregate, node.host));
    if (ref?.provider && (await ref.provider.releaseNode(node.name))) {
      released.push(node.name);
      deps.inventory.dropNode(ref.inventoryKey, node.name);
    }
  }
  if (released.length > 0) {
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'NodesRetained',
      action: 'Delete',
      note: `left running, unmanaged: ${released.join(', ')}`,
    });
  }
  return released;
}

async function bayLabelledSecrets(client: KubeClient, bay: Bay, signal?: AbortSignal): Promise<SecretObject[]> {
  const list = await client.list<SecretObject>(
    SECRET,
    { namespace: bay.metadata.namespace!, labelSelector: `${BAY_LABEL}=${bay.metadata.name}` },
    signal,
  );
  // The label is a name; the owner reference is the identity (a new bay of the same name owns its own).
  return list.items.filter((s) => s.metadata.ownerReferences?.some((r) => r.uid === bay.metadata.uid));
}

async function deleteSecrets(client: KubeClient, bay: Bay, signal?: AbortSignal): Promise<void> {
  for (const secret of await bayLabelledSecrets(client, bay, signal)) {
    await client
      .delete(SECRET, { namespace: secret.metadata.namespace!, name: secret.metadata.name! }, signal)
      .catch((err: unknown) => {
        if (!isNotFound(err)) throw err;
      });
  }
}

/**
 * The CA, marina's client and the nodes' keys in the operator's namespace go under either policy: no
 * garbage collector follows a bay across namespaces, and nothing is issued for a bay that is gone.
 * Nodes kept under Retain go on serving the certificates they have.
 */
async function deleteInternalSecrets(deps: BayControllerDeps, bay: Bay, signal?: AbortSignal): Promise<void> {
  const namespace = deps.secrets.operatorNamespace;
  const list = await deps.client.list<SecretObject>(
    SECRET,
    { namespace, labelSelector: `${BAY_UID_LABEL}=${bay.metadata.uid}` },
    signal,
  );
  for (const secret of list.items) await deleteSecret(deps.client, namespace, secret.metadata.name!, signal);
}

/** Under Retain the Secrets outlive the bay: without the owner reference the garbage collector keeps them. */
async function releaseSecrets(client: KubeClient, bay: Bay, signal?: AbortSignal): Promise<void> {
  for (const secret of await bayLabelledSecrets(client, bay, signal)) {
    const ownerReferences = (secret.metadata.ownerReferences ?? []).filter((r) => r.uid !== bay.metadata.uid);
    await client.patch(
      SECRET,
      { namespace: secret.metadata.namespace!, name: secret.metadata.name! },
      'merge',
      { metadata: { ownerReferences } },
      { signal },
    );
  }
}
