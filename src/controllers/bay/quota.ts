import type { NamespaceObject } from '../kinds.js';
import type { Bay, BayNodeStatus } from '../../api/types.generated.js';

/**
 * The cap on a tenant's nodes: the platform admin annotates the tenant's Namespace (which a tenant with
 * rights in its namespace cannot edit) with `marina.dev/max-nodes`. Every node of every bay of the
 * namespace counts — by hand or autoscaled, being built or running — except nodes confirmed lost. The
 * cap is applied before anything is created: new nodes past it are not planned, and autoscaling does
 * not raise a target past it. The count of bays is Kubernetes' own ResourceQuota (count/bays.marina.dev).
 */

export const MAX_NODES_ANNOTATION = 'marina.dev/max-nodes';

export interface NodeQuota {
  /** The namespace's cap; 0 when the annotation cannot be read (a cap nobody can read allows nothing). */
  readonly limit: number;
  /** Nodes the namespace's other bays have or are building. */
  readonly usedByOthers: number;
  /** The annotation as written, for messages. */
  readonly written: string;
  /** Whether it is a whole number of nodes (otherwise limit is 0). */
  readonly readable: boolean;
}

/**
 * What each bay last held or was granted, by `namespace/name`, noted synchronously by placement: two
 * bays of one namespace planned before either's status reaches the cache still see each other.
 */
export class NodeQuotaLedger {
  private readonly held = new Map<string, number>();

  note(bay: Bay, nodes: number): void {
    this.held.set(bayKey(bay), nodes);
  }

  heldBy(bay: Bay): number {
    return this.held.get(bayKey(bay)) ?? 0;
  }

  forget(bay: Bay): void {
    this.held.delete(bayKey(bay));
  }
}

const bayKey = (bay: Bay): string => `${bay.metadata.namespace}/${bay.metadata.name}`;

/** The nodes a bay counts against its namespace's cap: every recorded node but the lost ones. */
export const countedNodes = (nodes: readonly BayNodeStatus[] | undefined): number =>
  (nodes ?? []).filter((n) => n.state !== 'Lost').length;

/** undefined when the namespace has no cap. */
export function nodeQuotaOf(
  namespace: NamespaceObject | undefined,
  bay: Bay,
  baysOfNamespace: readonly Bay[],
  ledger: NodeQuotaLedger,
): NodeQuota | undefined {
  const written = namespace?.metadata?.annotations?.[MAX_NODES_ANNOTATION];
  if (written === undefined) return undefined;
  const readable = /^\d{1,6}$/.test(written.trim());
  const limit = readable ? Number(written.trim()) : 0;
  const usedByOthers = baysOfNamespace
    .filter((other) => other.metadata.uid !== bay.metadata.uid)
    .reduce((sum, other) => sum + Math.max(countedNodes(other.status?.nodes), ledger.heldBy(other)), 0);
  return { limit, usedByOthers, written, readable };
}

/** How many more nodes the bay may have beyond `has`; Infinity without a cap. */
export function quotaRoom(quota: NodeQuota | undefined, has: number): number {
  return quota === undefined ? Infinity : Math.max(0, quota.limit - quota.usedByOthers - has);
}

/**
 * The condition and Event text naming the quota, with the figures: the bay has or was just granted
 * `bayHolds` nodes, and `held` more wait.
 */
export function describeQuota(quota: NodeQuota, namespace: string, bayHolds: number, held: number): string {
  const cap = quota.readable
    ? `namespace ${namespace} allows ${quota.limit} nodes (annotation ${MAX_NODES_ANNOTATION})`
    : `the annotation ${MAX_NODES_ANNOTATION}=${JSON.stringify(quota.written)} of namespace ${namespace} ` +
      'is not a whole number of nodes, so none may be added';
  const used = quota.usedByOthers + bayHolds;
  return `${cap} and its bays have ${used}: ${held} more node(s) wait for the quota`;
}

/** The bay's new nodes past its namespace's room are not planned; returns how many were held back. */
export function holdBackForQuota<T extends { readonly state: string; readonly replaces?: string }>(
  nodes: readonly T[],
  room: number,
): { readonly kept: T[]; readonly held: number } {
  let left = room;
  // A replacement stands in for a node that goes once it is ready: it passes the quota for that while.
  const kept = nodes.filter((n) => n.state !== 'new' || n.replaces !== undefined || left-- > 0);
  return { kept, held: nodes.length - kept.length };
}

/** The most nodes the bay may have under its namespace's quota, and the quota in words, for autoscaling. */
export function autoscaleCap(quota: NodeQuota, namespace: string): { readonly cap: number; readonly words: string } {
  const cap = Math.max(0, quota.limit - quota.usedByOthers);
  const others = quota.usedByOthers > 0 ? `, ${quota.usedByOthers} of them held by its other bays` : '';
  return { cap, words: `namespace ${namespace} allows ${quota.limit} nodes (${MAX_NODES_ANNOTATION})${others}` };
}
