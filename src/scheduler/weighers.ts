import { hostKey, type BayFootprint, type HostCandidate, type NodeRole, type PlacementRequest } from './types.js';

/**
 * Weighers rank the hosts that passed every filter; higher is better. Each returns a value in [0, 1] that
 * is multiplied by its weight, so the weights say what matters most.
 */
export interface HostWeigher {
  readonly name: string;
  readonly weight: number;
  weigh(host: HostCandidate, ctx: WeighContext): number;
}

export interface WeighContext {
  readonly request: PlacementRequest;
  readonly role: NodeRole;
  readonly footprint: BayFootprint;
}

/** Managers on distinct hosts where possible: a host losing power should not take quorum with it. */
export const managerAntiAffinity: HostWeigher = {
  name: 'ManagerAntiAffinity',
  weight: 100,
  weigh: (host, ctx) => (ctx.role !== 'manager' ? 0 : 1 / (1 + (ctx.footprint.managersByHost.get(hostKey(host.aggregate, host.host)) ?? 0))),
};

/** Spread a bay's nodes over hosts, so one host failing takes as few of them as possible. */
export const spreadBayNodes: HostWeigher = {
  name: 'Spread',
  weight: 10,
  weigh: (host, ctx) => 1 / (1 + (ctx.footprint.nodesByHost.get(hostKey(host.aggregate, host.host)) ?? 0)),
};

/** Among equals, the host with the most memory and CPU left after the node is placed. */
export const leastAllocated: HostWeigher = {
  name: 'LeastAllocated',
  weight: 1,
  weigh(host, ctx) {
    const cpuLimit = host.capacity.cpu * host.overcommit.cpu;
    const memLimit = host.capacity.memoryBytes * host.overcommit.memory;
    const cpuFree = cpuLimit > 0 ? (cpuLimit - host.allocated.cpu - ctx.request.flavor.cpu) / cpuLimit : 0;
    const memFree = memLimit > 0 ? (memLimit - host.allocated.memoryBytes - ctx.request.flavor.memoryBytes) / memLimit : 0;
    return Math.max(0, (cpuFree + memFree) / 2);
  },
};

export const defaultWeighers: readonly HostWeigher[] = [managerAntiAffinity, spreadBayNodes, leastAllocated];
