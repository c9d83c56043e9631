import type { Bay } from '../../api/types.generated.js';
import { parseBytes } from '../../api/quantity.js';
import { scheduleNodes, type BayFootprint, type HostCandidate, type NodeToPlace, type PlacementRequest, type ScheduleResult } from '../../scheduler/index.js';
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
 * Nodes placed but not created yet, across all bays of this operator. A host's capacity report only
 * shows instances that exist, so without this two bays scheduling at the same moment would both see
 * the same free room. Placement runs one bay at a time under the ledger's lock.
 */
export class PlacementLedger {
  private readonly intents = new Map<string, Intent>();
  private tail: Promise<unknown> = Promise.resolve();

  exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

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
 * Phase 2b: places the plan's new nodes. Capacity is read live from the candidate hosts (placement is
 * rare, and a stale report would over-pack), plus what the ledger holds for nodes not created yet.
 */
export async function placeNewNodes(
  plan: NodePlan,
  request: PlacementRequest,
  discovery: Discovery,
  ledger: PlacementLedger,
  nodeNameOf: (index: number) => string,
): Promise<ScheduleResult> {
  const toPlace: NodeToPlace[] = plan.nodes.filter((n) => n.state === 'new').map((n) => ({ index: n.index, role: n.role }));
  if (toPlace.length === 0) return { placements: [], unschedulable: [] };
  return ledger.exclusive(async () => {
    const now = Date.now();
    const existing = new Set(discovery.discovered.map((d) => d.name));
    for (const name of existing) ledger.settle(name);
    const candidates = await Promise.all([...discovery.hosts.values()].map((ref) => candidate(ref, discovery, ledger, existing, now)));
    const result = scheduleNodes(toPlace, request, candidates, footprintOf(plan));
    for (const p of result.placements) {
      ledger.record(nodeNameOf(p.index), { host: hostKey(p.aggregate, p.host), cpu: request.flavor.cpu, memoryBytes: request.flavor.memoryBytes, diskBytes: request.flavor.diskBytes, at: now });
    }
    return result;
  });
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

async function candidate(ref: HostRef, discovery: Discovery, ledger: PlacementLedger, existing: ReadonlySet<string>, now: number): Promise<HostCandidate> {
  const { aggregate, host } = ref;
  const probed = aggregate.status?.hosts?.find((h) => h.name === host.name);
  const base = {
    aggregate: aggregate.metadata.name!,
    host: host.name,
    metadata: aggregate.spec.metadata ?? {},
    ...(aggregate.spec.allowedNamespaces ? { allowedNamespaces: aggregate.spec.allowedNamespaces } : {}),
    cordoned: host.cordoned,
    overcommit: aggregate.spec.overcommit,
  };
  const notReady = (reason: string): HostCandidate => ({ ...base, ready: false, notReadyReason: reason, capacity: { cpu: 0, memoryBytes: 0 }, allocated: { cpu: 0, memoryBytes: 0 } });
  if (discovery.unreachable.has(ref.key) || !ref.provider) return notReady(discovery.unreachable.get(ref.key) ?? 'unreachable');
  if (!probed) return notReady('not probed yet');
  if (!probed.ready) return notReady(probed.reason ?? 'not ready');
  try {
    const capacity = await ref.provider.capacity();
    const pending = ledger.reservedOn(ref.key, existing, now);
    return {
      ...base,
      ready: true,
      capacity: { cpu: capacity.total.cpu, memoryBytes: capacity.total.memoryBytes, ...(capacity.total.diskBytes !== undefined ? { diskBytes: capacity.total.diskBytes } : {}) },
      allocated: { cpu: capacity.allocated.cpu + pending.cpu, memoryBytes: capacity.allocated.memoryBytes + pending.memoryBytes, diskBytes: capacity.allocated.diskBytes + pending.diskBytes },
    };
  } catch (err) {
    return notReady(err instanceof Error ? err.message : String(err));
  }
}
