import type { BayNodeStatus } from '../../api/types.generated.js';
import type { NodeInfo } from '../../hosts/index.js';
import type { NodeRole } from '../../scheduler/types.js';
import { hostKey } from './names.js';

/**
 * The node plan of a bay: which nodes exist, which must be (re)created, which were lost. Pure: it reads
 * what status recorded and what the hosts reported, and never decides to delete a live node.
 *
 * What counts as a node of the bay:
 * - present: found on a reachable host (adopted even when status never recorded it, e.g. after a crash);
 * - unknown: recorded on a host that cannot be reached now; it may well be alive, so it is neither
 *   replaced nor deleted, and its index is never reused;
 * - intended: recorded before its instance was created and absent from its reachable host; it is created
 *   again under the same index.
 * A node that once ran and is confirmed gone (its host answers, the instance is not there) is lost: it is
 * replaced by a new node with a new index, and its swarm membership is removed afterwards.
 */

export interface DiscoveredNode {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly aggregate: string;
  readonly host: string;
  readonly running: boolean;
  readonly address?: string;
  /** The node as its host listed it (limits, modules, image), for drift checks. */
  readonly info?: NodeInfo;
}

export interface PlanInput {
  readonly specNodes: number;
  readonly specManagers: number;
  readonly autoscaleTarget?: number;
  readonly recorded: readonly BayNodeStatus[];
  readonly discovered: readonly DiscoveredNode[];
  /** `aggregate/host` of hosts that could not be listed. */
  readonly unreachableHosts: ReadonlySet<string>;
  /** Nodes to be replaced (replacement.ts): they stay until a replacement of their role is ready. */
  readonly leaving?: ReadonlySet<string>;
}

export type PlannedState = 'present' | 'unknown' | 'intended';

export interface PlannedNode {
  readonly name?: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly state: PlannedState | 'new';
  /** Known for present, unknown and intended nodes; chosen by the scheduler for new ones. */
  readonly aggregate?: string;
  readonly host?: string;
  readonly recorded?: BayNodeStatus;
  readonly discovered?: DiscoveredNode;
  /** To be replaced: it does not count towards the bay's nodes, its replacement does. */
  readonly leaving?: boolean;
  /** A replacement: the name of the leaving node it stands in for. */
  readonly replaces?: string;
}

export interface NodePlan {
  /** max(spec.nodes, autoscale target, nodes that exist): the count never goes down. */
  readonly desired: number;
  /** Every node the bay has or is about to have, by index. */
  readonly nodes: readonly PlannedNode[];
  /** Recorded nodes that ran once and are confirmed gone. */
  readonly lost: readonly BayNodeStatus[];
  /** Workers to promote so that the bay has spec.managers managers. */
  readonly promotions: number;
}

/** States a recorded node reaches once its instance is known to have existed. */
const EVER_RAN: ReadonlySet<BayNodeStatus['state']> = new Set(['Running', 'Ready', 'Lost', 'Draining', 'Retiring']);

/**
 * A node that once ran is replaced under a new index when its instance goes, never made again under
 * its name: a remade node would be a stranger to the swarm that still lists the old one.
 */
export const everRan = (recorded: BayNodeStatus | undefined): boolean => EVER_RAN.has(recorded?.state);

const hostKeyOf = (n: { aggregate?: string; host?: string }): string => hostKey(n.aggregate ?? '', n.host ?? '');

export function planNodes(input: PlanInput): NodePlan {
  const discoveredByIndex = new Map(input.discovered.map((d) => [d.index, d]));
  const nodes: PlannedNode[] = [];
  const lost: BayNodeStatus[] = [];
  const seenIndexes = new Set<number>();
  const leaving = (name: string | undefined): { leaving?: true } =>
    name !== undefined && input.leaving?.has(name) ? { leaving: true } : {};

  for (const d of input.discovered) {
    seenIndexes.add(d.index);
    const recorded = input.recorded.find((r) => r.index === d.index);
    nodes.push({ name: d.name, index: d.index, role: recorded?.role ?? d.role, state: 'present', aggregate: d.aggregate, host: d.host, discovered: d, ...(recorded ? { recorded } : {}), ...leaving(d.name) });
  }
  for (const r of input.recorded) {
    seenIndexes.add(r.index);
    if (discoveredByIndex.has(r.index)) continue;
    const base = { name: r.name, index: r.index, role: r.role, aggregate: r.aggregate, host: r.host, recorded: r };
    if (input.unreachableHosts.has(hostKeyOf(r))) nodes.push({ ...base, state: 'unknown', ...leaving(r.name) });
    // A retiring node whose instance is gone was deleted by its replacement: done, not lost.
    else if (r.state === 'Retiring') continue;
    else if (everRan(r)) lost.push(r);
    else nodes.push({ ...base, state: 'intended' });
  }

  // Leaving nodes are kept (they serve until their replacement is ready) but do not count: each gets
  // one replacement of its role, recorded as such, and the bay keeps its size: it never shrinks.
  const staying = nodes.filter((n) => !n.leaving);
  const replaced = new Set(staying.flatMap((n) => (n.recorded?.replaces ? [n.recorded.replaces] : [])));
  const unreplaced = nodes.filter((n) => n.leaving && !replaced.has(n.name ?? ''));
  const desired = Math.max(input.specNodes, input.autoscaleTarget ?? 0, staying.length + unreplaced.length);
  let nextIndex = seenIndexes.size === 0 ? 0 : Math.max(...seenIndexes) + 1;
  for (const l of unreplaced) nodes.push({ index: nextIndex++, role: l.role, state: 'new', replaces: l.name! });
  const managers = [...staying, ...unreplaced].filter((n) => n.role === 'manager').length;
  let managersToAdd = Math.max(0, input.specManagers - managers);
  for (let missing = desired - staying.length - unreplaced.length; missing > 0; missing--) {
    const role: NodeRole = managersToAdd > 0 ? 'manager' : 'worker';
    if (role === 'manager') managersToAdd--;
    nodes.push({ index: nextIndex++, role, state: 'new' });
  }
  return { desired, nodes: nodes.sort((a, b) => a.index - b.index), lost, promotions: managersToAdd };
}
