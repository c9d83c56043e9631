import { hostKey } from './names.js';
import type { PlannedNode } from './plan.js';

/** A node's turn to be created: wait for `ready`, call `done` once its instance exists (or failed). */
export interface CreationTurn {
  readonly ready: Promise<void>;
  readonly done: () => void;
}

/**
 * The order in which a reconcile creates its nodes on each host: managers first, then workers, each
 * by index. A host creates one node at a time anyway (LXD hands out id ranges that way), so the order
 * costs nothing; it decides which node boots first, and the lowest-index manager founds the swarm the
 * others join (swarm-formation.ts). Nodes that exist already, or whose host is unknown, wait for none.
 */
export function creationTurns(nodes: readonly PlannedNode[]): Map<number, CreationTurn> {
  const toCreate = nodes
    .filter((n) => (n.state === 'new' || n.state === 'intended') && n.aggregate && n.host)
    .sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'manager' ? -1 : 1));
  const turns = new Map<number, CreationTurn>();
  const lastOnHost = new Map<string, Promise<void>>();
  for (const n of toCreate) {
    const host = hostKey(n.aggregate!, n.host!);
    let done: () => void = () => undefined;
    const created = new Promise<void>((resolve) => (done = resolve));
    turns.set(n.index, { ready: lastOnHost.get(host) ?? Promise.resolve(), done });
    lastOnHost.set(host, created);
  }
  return turns;
}
