import type { HostCapacity, HostProvider, NodeInfo } from '../../hosts/index.js';

/** What marina last saw on one host, shared by every bay with nodes there. */
export type HostView =
  | {
      readonly ok: true;
      /** Date.now() of the observation. */
      readonly at: number;
      readonly capacity: HostCapacity;
      /** marina's nodes on the host, by instance name. */
      readonly nodes: ReadonlyMap<string, NodeInfo>;
      /** Image alias → fingerprint on this host, for the aliases the probes looked up. */
      readonly images: ReadonlyMap<string, string>;
    }
  | { readonly ok: false; readonly at: number; readonly error: unknown };

/** Bays (by uid) whose nodes on a host look different from the last observation. */
export type BaysChanged = (bayUids: ReadonlySet<string>) => void;

/**
 * The key a host is observed under: its endpoint. Two aggregates may list the same machine (a host in
 * several aggregates, as in Nova); it is one set of instances and one capacity, observed once.
 */
export const inventoryKeyOf = (host: { readonly endpoint: string }): string => host.endpoint;

/**
 * Each host observed once per probe interval, not once per bay: bays read the last observation, and
 * a new one that shows their nodes changed (a node gone, stopped, readdressed) wakes them. Nodes marina
 * itself creates or starts are written in at once, so a bay's next reconcile never misses its own work.
 */
export class HostInventory {
  private readonly views = new Map<string, HostView>();
  private readonly inFlight = new Map<string, Promise<HostView>>();

  /**
   * @param failureGraceMs how long a host that answered keeps its last good view through failed
   *   observations: one error (an API hiccup, a dropped connection) must not make every node on the
   *   host unknown and every bay there Degraded. Past it, the host is away.
   */
  constructor(
    private readonly onBaysChanged: BaysChanged = () => {},
    private readonly now: () => number = Date.now,
    private readonly failureGraceMs = 0,
  ) {}

  view(key: string): HostView | undefined {
    return this.views.get(key);
  }

  /**
   * The host's view no older than `maxAgeMs`, observing it again otherwise; concurrent callers share
   * one observation. A failed observation is a view too (the host is unreachable) until the next one.
   */
  async observe(key: string, provider: HostProvider, maxAgeMs: number): Promise<HostView> {
    const known = this.views.get(key);
    if (known && this.now() - known.at < maxAgeMs) return known;
    let running = this.inFlight.get(key);
    if (!running) {
      running = this.observeNow(key, provider).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, running);
    }
    return running;
  }

  /**
   * marina created, started or repaired a node: the view holds it without asking the host again, and a
   * new node's limits count in the host's allocation at once, so the next placement sees them.
   */
  noteNode(key: string, node: NodeInfo): void {
    const view = this.views.get(key);
    if (!view?.ok) return;
    const capacity = view.nodes.has(node.name) ? view.capacity : withAllocation(view.capacity, node, 1);
    this.views.set(key, { ...view, capacity, nodes: new Map(view.nodes).set(node.name, node) });
  }

  /** marina deleted a node. */
  dropNode(key: string, name: string): void {
    const view = this.views.get(key);
    const node = view?.ok ? view.nodes.get(name) : undefined;
    if (!view?.ok || !node) return;
    const nodes = new Map(view.nodes);
    nodes.delete(name);
    this.views.set(key, { ...view, capacity: withAllocation(view.capacity, node, -1), nodes });
  }

  setImage(key: string, alias: string, fingerprint: string | undefined): void {
    const view = this.views.get(key);
    if (!view?.ok) return;
    const images = new Map(view.images);
    if (fingerprint) images.set(alias, fingerprint);
    else images.delete(alias);
    this.views.set(key, { ...view, images });
  }

  /** Forgets hosts no aggregate lists any more. */
  retain(liveKeys: ReadonlySet<string>): void {
    for (const key of this.views.keys()) if (!liveKeys.has(key)) this.views.delete(key);
  }

  private async observeNow(key: string, provider: HostProvider): Promise<HostView> {
    const before = this.views.get(key);
    let view: HostView;
    try {
      const observed = await provider.observe();
      const images = before?.ok ? before.images : new Map<string, string>();
      view = { ok: true, at: this.now(), capacity: observed.capacity, nodes: new Map(observed.nodes.map((n) => [n.name, n])), images };
    } catch (error) {
      // The good view keeps its time: the grace runs from the last success, and the next reader asks again.
      if (before?.ok && this.now() - before.at < this.failureGraceMs) return before;
      view = { ok: false, at: this.now(), error };
    }
    this.views.set(key, view);
    // The first look at a host after a start tells no bay anything new: each reads it when it runs.
    const changed = before ? changedBays(before, view) : new Set<string>();
    if (changed.size > 0) this.onBaysChanged(changed);
    return view;
  }
}

function withAllocation(capacity: HostCapacity, node: NodeInfo, sign: 1 | -1): HostCapacity {
  const add = <A extends HostCapacity['reservedByMarina']>(a: A): A => ({
    ...a,
    cpu: a.cpu + sign * (node.limits.cpu ?? 0),
    memoryBytes: a.memoryBytes + sign * (node.limits.memoryBytes ?? 0),
    diskBytes: a.diskBytes + sign * (node.limits.diskBytes ?? 0),
    instances: a.instances + sign,
  });
  return { ...capacity, allocated: add(capacity.allocated), reservedByMarina: add(capacity.reservedByMarina) };
}

/** A node as far as its bay cares between two observations. */
const signature = (n: NodeInfo): string => `${n.status}|${n.ipv4Address ?? ''}`;

function changedBays(before: HostView, after: HostView): Set<string> {
  const changed = new Set<string>();
  const nodesOf = (v: HostView): ReadonlyMap<string, NodeInfo> => (v.ok ? v.nodes : new Map());
  const reachabilityFlipped = before.ok !== after.ok;
  const [old, now] = [nodesOf(before), nodesOf(after)];
  for (const [name, node] of old) {
    const next = now.get(name);
    if (reachabilityFlipped || !next || signature(next) !== signature(node)) addOwner(changed, node);
  }
  for (const [name, node] of now) if (reachabilityFlipped || !old.has(name)) addOwner(changed, node);
  return changed;
}

function addOwner(set: Set<string>, node: NodeInfo): void {
  if (node.ownership) set.add(node.ownership.bayUid);
}
