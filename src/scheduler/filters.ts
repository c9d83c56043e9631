import { formatBytes } from '../api/quantity.js';
import { selectorMatches } from './selector.js';
import { hostKey, type HostCandidate, type NetworkReach, type PlacementRequest } from './types.js';

/**
 * Filters, in the spirit of Nova's scheduler: each looks at one host for one node and either passes it or
 * says why not. The order is the order reasons are reported in.
 */
export type FilterVerdict =
  | { readonly pass: true }
  | { readonly pass: false; readonly reason: string; readonly message: string; readonly code?: string };

/** Where the bay's nodes already are (placed earlier, or in this round), and how far each host reaches. */
export interface BayWhereabouts {
  readonly hosts: ReadonlySet<string>;
  readonly reachOf: (hostKey: string) => NetworkReach;
}

export interface HostFilter {
  readonly name: string;
  check(host: HostCandidate, request: PlacementRequest, bay: BayWhereabouts): FilterVerdict;
}

const PASS: FilterVerdict = { pass: true };
const fail = (reason: string, message: string, code?: string): FilterVerdict =>
  code === undefined ? { pass: false, reason, message } : { pass: false, reason, message, code };

export const aggregateMatchesSelector: HostFilter = {
  name: 'AggregateSelector',
  check: (host, req) =>
    selectorMatches(req.aggregateSelector, host.metadata) ? PASS : fail('AggregateNotSelected', `aggregate ${host.aggregate} does not match the bay's aggregateSelector`),
};

export const namespaceAllowed: HostFilter = {
  name: 'AllowedNamespaces',
  check: (host, req) =>
    selectorMatches(host.allowedNamespaces, req.namespaceLabels) ? PASS : fail('NamespaceNotAllowed', `aggregate ${host.aggregate} does not allow namespace ${req.namespace}`),
};

export const hostReady: HostFilter = {
  name: 'HostReady',
  check: (host) =>
    host.ready
      ? PASS
      : fail('HostNotReady', `host is not ready${host.notReadyReason ? ` (${host.notReadyReason})` : ''}`, host.notReadyCode),
};

export const hostNotCordoned: HostFilter = {
  name: 'HostNotCordoned',
  check: (host) => {
    if (host.evacuating) return fail('HostEvacuating', 'host is being evacuated: its nodes move away and it takes no new ones');
    return host.cordoned ? fail('HostCordoned', 'host is cordoned: it keeps its nodes but takes no new ones') : PASS;
  },
};

export const cpuFits: HostFilter = {
  name: 'CpuFits',
  check(host, req) {
    const limit = host.capacity.cpu * host.overcommit.cpu;
    const free = limit - host.allocated.cpu;
    return req.flavor.cpu <= free ? PASS : fail('InsufficientCpu', `needs ${req.flavor.cpu} CPUs, ${Math.max(0, free)} of ${limit} (with overcommit ${host.overcommit.cpu}) are free`);
  },
};

export const memoryFits: HostFilter = {
  name: 'MemoryFits',
  check(host, req) {
    const limit = host.capacity.memoryBytes * host.overcommit.memory;
    const free = limit - host.allocated.memoryBytes;
    return req.flavor.memoryBytes <= free
      ? PASS
      : fail('InsufficientMemory', `needs ${formatBytes(req.flavor.memoryBytes)} memory, ${formatBytes(Math.max(0, Math.floor(free)))} of ${formatBytes(Math.floor(limit))} are free`);
  },
};

/** Disk is never overcommitted; a host that does not report its pool is not judged on disk. */
export const diskFits: HostFilter = {
  name: 'DiskFits',
  check(host, req) {
    if (host.capacity.diskBytes === undefined) return PASS;
    const free = host.capacity.diskBytes - (host.allocated.diskBytes ?? 0);
    return req.flavor.diskBytes <= free ? PASS : fail('InsufficientDisk', `needs ${formatBytes(req.flavor.diskBytes)} disk, ${formatBytes(Math.max(0, free))} are free`);
  },
};

/**
 * A bay's nodes must reach each other: a host whose network keeps nodes to itself takes a node only when
 * the bay has none elsewhere, and a host on an aggregate's own network only when the bay's other nodes
 * are on that aggregate's hosts.
 */
export const networkReaches: HostFilter = {
  name: 'NetworkReach',
  check(host, _req, bay) {
    const here = hostKey(host.aggregate, host.host);
    const reach = host.networkReach ?? 'routed';
    const apart = [...bay.hosts].find((key) => key !== here && !joins(here, reach, key, bay.reachOf(key)));
    if (apart === undefined) return PASS;
    const why =
      reach === 'host' || bay.reachOf(apart) === 'host'
        ? 'the isolated network of an aggregate keeps a bay on one host'
        : 'nodes on different aggregates\' own networks cannot reach each other';
    return fail('NetworkUnreachable', `the bay already has nodes on ${apart}: ${why} (network mode bridged spans hosts)`);
  },
};

/** Whether a node on `a` and a node on `b` (different hosts) can reach each other. */
function joins(a: string, reachA: NetworkReach, b: string, reachB: NetworkReach): boolean {
  if (reachA === 'host' || reachB === 'host') return false;
  if (reachA === 'routed' && reachB === 'routed') return true;
  return reachA === reachB && aggregateOf(a) === aggregateOf(b);
}

const aggregateOf = (key: string): string => key.slice(0, key.indexOf('/'));

export const defaultFilters: readonly HostFilter[] = [
  aggregateMatchesSelector,
  namespaceAllowed,
  hostReady,
  hostNotCordoned,
  networkReaches,
  cpuFits,
  memoryFits,
  diskFits,
];
