import type { Bay, HostAggregate } from '../../api/types.generated.js';
import { parseBytes } from '../../api/quantity.js';
import {
  scheduleNodes,
  type BayFootprint,
  type HostCandidate,
  type NetworkReach,
  type NodeToPlace,
  type PlacementRequest,
  type ScheduleResult,
} from '../../scheduler/index.js';
import type { Discovery, HostRef } from './discovery.js';
import { hostKey } from './names.js';
import type { NodePlan } from './plan.js';

interface Intent {
  readonly host: string;
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly at: number;
}

/** Intents older than this are forgotten: their bay is gone, or their node long visible on its host. */
const INTENT_TTL_MS = 10 * 60_000;

/**
 * Nodes placed but not created yet, across all bays of this operator. A host's observation only
 * shows instances that exist, so without this two bays scheduling at the same moment would both see
 * the same free room. Placement reads and records synchronously, so two bays never interleave there.
 */
export class PlacementLedger {
  private readonly intents = new Map<string, Intent>();

  reservedOn(host: string, exceptNodes: ReadonlySet<string>, now: number): { cpu: number; memoryBytes: number; diskBytes: number } {
    const sum = { cpu: 0, memoryBytes: 0, diskBytes: 0 };
    for (const [node, intent] of this.intents) {
      if (now - intent.at > INTENT_TTL_MS) this.intents.delete(node);
      else if (intent.host === host && !exceptNodes.has(node)) {
        sum.cpu += intent.cpu;
        sum.memoryBytes += intent.memoryBytes;
        sum.diskBytes += intent.diskBytes;
      }
    }
    return sum;
  }

  record(node: string, intent: Intent): void {
    this.intents.set(node, intent);
  }

  /** The node exists on its host now, where capacity reports count it. */
  settle(node: string): void {
    this.intents.delete(node);
  }
}

export function placementRequest(bay: Bay, namespaceLabels: Readonly<Record<string, string>>): PlacementRequest {
  return {
    namespace: bay.metadata.namespace!,
    namespaceLabels,
    ...(bay.spec.aggregateSelector ? { aggregateSelector: bay.spec.aggregateSelector } : {}),
    flavor: { cpu: bay.spec.flavor.cpu, memoryBytes: parseBytes(bay.spec.flavor.memory), diskBytes: parseBytes(bay.spec.flavor.disk) },
  };
}

/**
 * Phase 2b: places the plan's new nodes. Capacity comes from each host's observation, which counts
 * every node marina created since (the inventory notes them), plus what the ledger holds for nodes
 * placed but not created yet; instances made by others show up at the host's next probe.
 */
export function placeNewNodes(
  plan: NodePlan,
  request: PlacementRequest,
  discovery: Discovery,
  ledger: PlacementLedger,
  nodeNameOf: (index: number) => string,
): ScheduleResult {
  const toPlace: NodeToPlace[] = plan.nodes.filter((n) => n.state === 'new').map((n) => ({ index: n.index, role: n.role }));
  if (toPlace.length === 0) return { placements: [], unschedulable: [] };
  const now = Date.now();
  const existing = new Set(discovery.discovered.map((d) => d.name));
  for (const name of existing) ledger.settle(name);
  const result = scheduleNodes(toPlace, request, candidatesOf(discovery, ledger, existing, now), footprintOf(plan));
  for (const p of result.placements) {
    const { cpu, memoryBytes, diskBytes } = request.flavor;
    const host = discovery.hosts.get(hostKey(p.aggregate, p.host))!.inventoryKey;
    ledger.record(nodeNameOf(p.index), { host, cpu, memoryBytes, diskBytes, at: now });
  }
  return result;
}

function footprintOf(plan: NodePlan): BayFootprint {
  const nodesByHost = new Map<string, number>();
  const managersByHost = new Map<string, number>();
  for (const n of plan.nodes) {
    if (!n.aggregate || !n.host) continue;
    const key = hostKey(n.aggregate, n.host);
    nodesByHost.set(key, (nodesByHost.get(key) ?? 0) + 1);
    if (n.role === 'manager') managersByHost.set(key, (managersByHost.get(key) ?? 0) + 1);
  }
  return { nodesByHost, managersByHost };
}

/**
 * isolated: each bay's bridge is NATed by its host. bridged: the aggregate's hosts share one network.
 * shared: marina trusts the admin that the hosts route each other's bridges (simulated hosts do).
 */
const NETWORK_REACH: Readonly<Record<HostAggregate['spec']['network']['mode'], NetworkReach>> = {
  isolated: 'host',
  bridged: 'aggregate',
  shared: 'routed',
};

export function candidatesOf(discovery: Discovery, ledger: PlacementLedger | undefined, existing: ReadonlySet<string>, now: number): HostCandidate[] {
  return [...discovery.hosts.values()].map((ref) => candidate(ref, discovery, ledger, existing, now));
}

function candidate(ref: HostRef, discovery: Discovery, ledger: PlacementLedger | undefined, existing: ReadonlySet<string>, now: number): HostCandidate {
  const { aggregate, host } = ref;
  const probed = aggregate.status?.hosts?.find((h) => h.name === host.name);
  const base = {
    aggregate: aggregate.metadata.name!,
    host: host.name,
    metadata: aggregate.spec.metadata ?? {},
    ...(aggregate.spec.allowedNamespaces ? { allowedNamespaces: aggregate.spec.allowedNamespaces } : {}),
    cordoned: host.cordoned,
    evacuating: host.evacuate,
    overcommit: aggregate.spec.overcommit,
    networkReach: NETWORK_REACH[aggregate.spec.network.mode],
  };
  const code = probed && !probed.ready ? probed.reason : undefined;
  const notReady = (reason: string): HostCandidate => ({
    ...base,
    ready: false,
    notReadyReason: reason,
    ...(code ? { notReadyCode: code } : {}),
    capacity: { cpu: 0, memoryBytes: 0 },
    allocated: { cpu: 0, memoryBytes: 0 },
  });
  if (discovery.unreachable.has(ref.key) || !ref.provider || !ref.view?.ok) return notReady(discovery.unreachable.get(ref.key) ?? 'unreachable');
  if (!probed) return notReady('not probed yet');
  if (!probed.ready) return notReady(probed.reason ?? 'not ready');
  const { total, allocated } = ref.view.capacity;
  const pending = ledger?.reservedOn(ref.inventoryKey, existing, now) ?? { cpu: 0, memoryBytes: 0, diskBytes: 0 };
  return {
    ...base,
    ready: true,
    capacity: { cpu: total.cpu, memoryBytes: total.memoryBytes, ...(total.diskBytes !== undefined ? { diskBytes: total.diskBytes } : {}) },
    allocated: { cpu: allocated.cpu + pending.cpu, memoryBytes: allocated.memoryBytes + pending.memoryBytes, diskBytes: allocated.diskBytes + pending.diskBytes },
  };
}
