import { defaultFilters, type BayWhereabouts, type HostFilter } from './filters.js';
import {
  hostKey,
  type BayFootprint,
  type HostCandidate,
  type NodeToPlace,
  type Placement,
  type PlacementRequest,
  type Rejection,
  type ScheduleResult,
  type Unschedulable,
} from './types.js';
import { defaultWeighers, type HostWeigher } from './weighers.js';
import { selectorMatches } from './selector.js';

export interface SchedulerOptions {
  readonly filters?: readonly HostFilter[];
  readonly weighers?: readonly HostWeigher[];
}

/**
 * Places nodes one after another, each choice reserving its flavor on the chosen host and joining the
 * bay's footprint, so that the next node sees it. Deterministic: equal scores go to the host whose
 * aggregate/host name sorts first. Nodes that fit nowhere are returned with every host's reason.
 */
export function scheduleNodes(
  nodes: readonly NodeToPlace[],
  request: PlacementRequest,
  hosts: readonly HostCandidate[],
  footprint: BayFootprint,
  options: SchedulerOptions = {},
): ScheduleResult {
  const filters = options.filters ?? defaultFilters;
  const weighers = options.weighers ?? defaultWeighers;
  let candidates = [...hosts].sort((a, b) => hostKey(a.aggregate, a.host).localeCompare(hostKey(b.aggregate, b.host)));
  const nodesByHost = new Map(footprint.nodesByHost);
  const managersByHost = new Map(footprint.managersByHost);
  const placements: Placement[] = [];
  const unschedulable: Unschedulable[] = [];

  const reach = new Map(hosts.map((h) => [hostKey(h.aggregate, h.host), h.networkReach ?? 'routed'] as const));
  const reachOf = (key: string) => reach.get(key) ?? 'routed';

  // Managers first: they need distinct hosts most, and a swarm is useless without them.
  const ordered = [...nodes].sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === 'manager' ? -1 : 1));
  for (const node of ordered) {
    const rejections: Rejection[] = [];
    const bay: BayWhereabouts = { hosts: new Set([...nodesByHost].filter(([, n]) => n > 0).map(([k]) => k)), reachOf };
    const fitting = candidates.filter((host) => {
      const rejection = firstRejection(host, request, bay, filters);
      if (rejection) rejections.push(rejection);
      return !rejection;
    });
    if (fitting.length === 0) {
      unschedulable.push({ index: node.index, role: node.role, rejections });
      continue;
    }
    const ctx = { request, role: node.role, footprint: { nodesByHost, managersByHost } };
    const best = fitting.reduce((a, b) => (score(b, ctx, weighers) > score(a, ctx, weighers) ? b : a));
    const key = hostKey(best.aggregate, best.host);
    placements.push({ index: node.index, role: node.role, aggregate: best.aggregate, host: best.host });
    nodesByHost.set(key, (nodesByHost.get(key) ?? 0) + 1);
    if (node.role === 'manager') managersByHost.set(key, (managersByHost.get(key) ?? 0) + 1);
    candidates = candidates.map((h) => (h === best ? reserve(h, request) : h));
  }
  return { placements: placements.sort((a, b) => a.index - b.index), unschedulable: unschedulable.sort((a, b) => a.index - b.index) };
}

function firstRejection(
  host: HostCandidate,
  request: PlacementRequest,
  bay: BayWhereabouts,
  filters: readonly HostFilter[],
): Rejection | undefined {
  for (const filter of filters) {
    const verdict = filter.check(host, request, bay);
    if (!verdict.pass) {
      const { reason, message, code } = verdict;
      return { aggregate: host.aggregate, host: host.host, reason, message, ...(code === undefined ? {} : { code }) };
    }
  }
  return undefined;
}

function score(host: HostCandidate, ctx: { request: PlacementRequest; role: NodeToPlace['role']; footprint: BayFootprint }, weighers: readonly HostWeigher[]): number {
  return weighers.reduce((sum, w) => sum + w.weight * w.weigh(host, ctx), 0);
}

function reserve(host: HostCandidate, request: PlacementRequest): HostCandidate {
  return {
    ...host,
    allocated: {
      cpu: host.allocated.cpu + request.flavor.cpu,
      memoryBytes: host.allocated.memoryBytes + request.flavor.memoryBytes,
      ...(host.allocated.diskBytes !== undefined || host.capacity.diskBytes !== undefined
        ? { diskBytes: (host.allocated.diskBytes ?? 0) + request.flavor.diskBytes }
        : {}),
    },
  };
}

/** One line per host for a condition message: "metal/h1: InsufficientMemory (needs 4Gi ...)". */
export function describeUnschedulable(u: Unschedulable): string {
  if (u.rejections.length === 0) return `no host can take node ${u.index} (${u.role}): no aggregate offers any host`;
  const reasons = u.rejections.map((r) => `${r.aggregate}/${r.host}: ${r.reason} (${r.message})`).join('; ');
  return `no host can take node ${u.index} (${u.role}): ${reasons}`;
}

/** Rejections that say which aggregates exist beyond the ones a tenant may use: kept from tenants. */
const NOT_THE_TENANTS = new Set(['AggregateNotSelected', 'NamespaceNotAllowed']);

/**
 * The same, for what a tenant reads (its bay's conditions and Events): hosts of aggregates the bay does
 * not select or its namespace may not use are counted, not named, and a host's own error (which may
 * name its endpoint) is left out. The full text goes to the operator's log and the aggregate's status.
 */
export function describeUnschedulableForTenant(u: Unschedulable): string {
  const visible = u.rejections.filter((r) => !NOT_THE_TENANTS.has(r.reason));
  const hidden = u.rejections.length - visible.length;
  const reasons = visible.map((r) => `${r.aggregate}/${r.host}: ${r.reason}${tenantDetail(r)}`);
  if (reasons.length === 0) return `no host can take node ${u.index} (${u.role}): no aggregate this bay may use offers a host`;
  const others = hidden > 0 ? `; ${hidden} host(s) of aggregates this bay does not use` : '';
  return `no host can take node ${u.index} (${u.role}): ${reasons.join('; ')}${others}`;
}

/** A host's own error may name its endpoint: a tenant reads its CamelCase code, the admin the whole text. */
function tenantDetail(r: Rejection): string {
  if (r.reason !== 'HostNotReady') return ` (${r.message})`;
  return r.code ? ` (${r.code}: an admin fixes the aggregate)` : '';
}

/**
 * True when no eligible host could take the flavor even if it were empty: waiting for room cannot
 * help, a person must change the bay or the aggregates. Hosts that are not ready do not count (they
 * say nothing of their size), and with no eligible host at all the answer is false: one may come.
 */
export function flavorFitsNowhere(request: PlacementRequest, hosts: readonly HostCandidate[]): boolean {
  const eligible = hosts.filter(
    (h) => h.ready && selectorMatches(request.aggregateSelector, h.metadata) && selectorMatches(h.allowedNamespaces, request.namespaceLabels),
  );
  if (eligible.length === 0) return false;
  const { flavor } = request;
  return eligible.every(
    (h) =>
      flavor.cpu > h.capacity.cpu * h.overcommit.cpu ||
      flavor.memoryBytes > h.capacity.memoryBytes * h.overcommit.memory ||
      (h.capacity.diskBytes !== undefined && flavor.diskBytes > h.capacity.diskBytes),
  );
}
