import type { Bay, BayNodeStatus } from '../../api/types.generated.js';
import { nodeDrift, SWARM_KERNEL_MODULES } from '../../hosts/index.js';
import { parseBytes } from '../../api/quantity.js';
import type { ReconcileContext } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import { describeUnschedulable, flavorFitsNowhere, type ScheduleResult } from '../../scheduler/index.js';
import { BAY } from '../kinds.js';
import { ensureBayPki, storedNodeCertificate, type BayPki } from './certificates.js';
import { publishCredentials } from './credentials.js';
import type { BayControllerDeps } from './deps.js';
import { discoverBayNodes, type HostRef } from './discovery.js';
import { classifyFailure, type PhaseName } from './failures.js';
import { hostKey, nodeName } from './names.js';
import { bringUpNode, dockerTlsOf, type NodeOutcome } from './nodes.js';
import { candidatesOf, placeNewNodes, placementRequest } from './placement.js';
import { planNodes, type NodePlan, type PlannedNode } from './plan.js';
import type { BayScope } from './scope.js';
import { REASONS } from './reasons.js';
import { recordLoss } from './status.js';
import { ensureSwarm, type LiveNode } from './swarm.js';
import { describeDrift } from '../../hosts/index.js';

/**
 * One step of a bay's reconcile. A phase reads what earlier phases recorded in the scope, does its
 * work idempotently, and records facts; it never computes conditions. `ready` says whether what it
 * needs is there (a phase whose inputs failed is skipped, not failed again).
 */
export interface BayPhase {
  readonly name: PhaseName;
  ready(scope: BayScope): boolean;
  run(scope: BayScope, deps: BayControllerDeps, ctx: ReconcileContext): Promise<void>;
}

/** 1. The bay's CA and marina's client certificate, each created once in a Secret. */
const certificatesPhase: BayPhase = {
  name: 'certificates',
  ready: () => true,
  async run(scope, deps, ctx) {
    scope.pki = await ensureBayPki(deps.secrets, scope.bay, ctx.signal);
  },
};

/** 2a. What exists: the bay's nodes in each host's last observation. */
const discoveryPhase: BayPhase = {
  name: 'discovery',
  ready: () => true,
  async run(scope, deps) {
    scope.discovery = await discoverBayNodes(scope.bay, deps.aggregates.store.list(), deps.registry, deps.inventory, deps.timing.hostMaxAgeMs);
  },
};

/** 2b. The grow-only plan; new nodes placed, and their placement written to status before they exist. */
const placementPhase: BayPhase = {
  name: 'placement',
  ready: (scope) => scope.discovery !== undefined,
  async run(scope, deps, ctx) {
    const bay = scope.bay;
    const discovery = scope.discovery!;
    const plan = planNodes({
      specNodes: bay.spec.nodes,
      specManagers: bay.spec.managers,
      ...(bay.status?.autoscale?.target !== undefined ? { autoscaleTarget: bay.status.autoscale.target } : {}),
      recorded: bay.status?.nodes ?? [],
      discovered: discovery.discovered,
      unreachableHosts: new Set(discovery.unreachable.keys()),
    });
    const labels = deps.namespaces.store.get(bay.metadata.namespace!)?.metadata.labels ?? {};
    const request = placementRequest(bay, labels);
    const scheduled = placeNewNodes(plan, request, discovery, deps.ledger, (i) => nameOf(bay, i));
    scope.plan = plan;
    scope.scheduled = scheduled;
    if (scheduled.unschedulable.length > 0 && flavorFitsNowhere(request, candidatesOf(discovery, undefined, new Set(), Date.now()))) {
      scope.fitsNowhere = true;
      const message = `the flavor (${bay.spec.flavor.cpu} CPUs, ${bay.spec.flavor.memory} memory, ${bay.spec.flavor.disk} disk) is larger than any eligible host, even empty`;
      scope.failures.push({ phase: 'placement', kind: 'terminal', reason: REASONS.flavorTooLarge, message, cause: undefined });
    }
    const placed = withPlacements(plan, scheduled);
    // New nodes join the work only once their placement is in status: no instance without a record.
    scope.nodes = placed.filter((n) => n.state !== 'new');
    scope.bay = await recordIntents(deps, bay, placed, plan.lost, ctx);
    scope.nodes = placed;
    await reportPlanEvents(deps, scope.bay, plan, scheduled);
  },
};

/** 3 and 4. Each node created or adopted, running, addressed, and serving marina over mutual TLS. */
const nodesPhase: BayPhase = {
  name: 'nodes',
  ready: (scope) => scope.pki !== undefined && scope.discovery !== undefined && scope.plan !== undefined,
  async run(scope, deps, ctx) {
    await Promise.all(scope.nodes.map((n) => bringUp(scope, deps, n, ctx)));
  },
};

/** 5. One swarm across the live nodes. */
const swarmPhase: BayPhase = {
  name: 'swarm',
  ready: (scope) => scope.pki !== undefined && liveNodes(scope).length > 0,
  async run(scope, deps) {
    const pki = scope.pki!;
    const live = liveNodes(scope);
    const names = new Set(scope.nodes.map((n) => nameOf(scope.bay, n.index, n)));
    const recorded = new Map((scope.bay.status?.nodes ?? []).map((n) => [n.name, n]));
    const settled = live.every((n) => recorded.get(n.name)?.state === 'Ready');
    const anchorAddress = scope.bay.status?.endpoint?.replace(/^tcp:\/\//, '').replace(/:\d+$/, '');
    scope.swarm = await ensureSwarm((address) => deps.docker(dockerTlsOf(pki), address), live, names, {
      settled,
      ...(anchorAddress ? { anchorAddress } : {}),
      onJoined: (seconds) => deps.metrics?.provisioned('swarm_join', seconds),
    });
    await reportSwarmEvents(deps, scope);
  },
};

/** 6. The tenant's credentials bundle, pointing at the anchor manager. */
const credentialsPhase: BayPhase = {
  name: 'credentials',
  ready: (scope) => scope.pki !== undefined && scope.swarm?.anchor !== undefined,
  async run(scope, deps, ctx) {
    scope.credentials = await publishCredentials(deps.secrets, scope.bay, scope.pki!, scope.swarm!.anchor!.address, ctx.signal);
  },
};

/** The phases of a bay's reconcile, in order. Rotation and autoscaling join this list as phases. */
export const BAY_PHASES: readonly BayPhase[] = [certificatesPhase, discoveryPhase, placementPhase, nodesPhase, swarmPhase, credentialsPhase];

/** Runs each ready phase; a phase's error becomes a typed failure in the scope, and the next phases go on. */
export async function runPhases(phases: readonly BayPhase[], scope: BayScope, deps: BayControllerDeps, ctx: ReconcileContext): Promise<void> {
  for (const phase of phases) {
    if (!phase.ready(scope)) continue;
    const started = performance.now();
    try {
      await phase.run(scope, deps, ctx);
    } catch (err) {
      const failure = classifyFailure(phase.name, err);
      scope.failures.push(failure);
      ctx.log.warn({ err, phase: phase.name, reason: failure.reason, kind: failure.kind }, 'phase failed');
    } finally {
      scope.durations[phase.name] = Math.round((scope.durations[phase.name] ?? 0) + performance.now() - started);
    }
  }
}

export const nameOf = (bay: Bay, index: number, node?: PlannedNode): string => node?.name ?? nodeName(bay.metadata.name!, bay.metadata.namespace!, index);

export function liveNodes(scope: BayScope): LiveNode[] {
  return scope.nodes.flatMap((n) => {
    const o = scope.outcomes.get(n.index);
    return o?.ok ? [{ name: nameOf(scope.bay, n.index, n), index: n.index, role: n.role, address: o.address }] : [];
  });
}

/** The plan's nodes with the scheduler's hosts filled in for new ones; new nodes it could not place are left out. */
function withPlacements(plan: NodePlan, scheduled: ScheduleResult): PlannedNode[] {
  const placed = new Map(scheduled.placements.map((p) => [p.index, p]));
  return plan.nodes.flatMap((n) => {
    if (n.state !== 'new') return [n];
    const p = placed.get(n.index);
    return p ? [{ ...n, aggregate: p.aggregate, host: p.host }] : [];
  });
}

/**
 * Writes the placement of new nodes into status before any instance is created: should the operator
 * die after creating an instance on a host that then becomes unreachable, the index is still known and
 * never handed to a twin. A node just found lost is recorded in the same write, so the bay shows
 * Degraded while its replacement is being built, not only after.
 */
async function recordIntents(deps: BayControllerDeps, bay: Bay, nodes: readonly PlannedNode[], lost: readonly BayNodeStatus[], ctx: ReconcileContext): Promise<Bay> {
  const fresh = nodes.filter((n) => n.state === 'new');
  const newlyLost = lost.filter((l) => l.state !== 'Lost');
  if (fresh.length === 0 && newlyLost.length === 0) return bay;
  const lostNames = new Set(newlyLost.map((l) => l.name));
  const recorded: BayNodeStatus[] = [
    ...(bay.status?.nodes ?? []).map((n) => (lostNames.has(n.name) ? { ...n, state: 'Lost' as const, ready: false } : n)),
    ...fresh.map((n) => ({ name: nameOf(bay, n.index, n), index: n.index, role: n.role, aggregate: n.aggregate!, host: n.host!, state: 'Pending' as const, ready: false })),
  ];
  const status = recordLoss(bay, { ...bay.status, nodes: recorded }, newlyLost, new Date());
  const written = await patchStatus(deps.client, BAY, bay, status, ctx.signal);
  deps.bays.observeWrite(written);
  return written ?? { ...bay, status };
}

async function bringUp(scope: BayScope, deps: BayControllerDeps, n: PlannedNode, ctx: ReconcileContext): Promise<void> {
  if (n.state === 'unknown' || !n.aggregate || !n.host) return;
  const key = hostKey(n.aggregate, n.host);
  const ref = scope.discovery!.hosts.get(key);
  if (!ref?.provider) return;
  const bay = scope.bay;
  const name = nameOf(bay, n.index, n);
  const settled = settledOutcome(scope, deps, n, ref);
  const outcome =
    settled ??
    (await bringUpNode(deps, bay, scope.pki!, {
      name,
      index: n.index,
      role: n.role,
      provider: ref.provider,
      inventoryKey: ref.inventoryKey,
      image: ref.aggregate.spec.image,
      bridge: ref.aggregate.spec.network.bridge,
      recordedState: n.recorded?.state,
    }, ctx.signal));
  scope.outcomes.set(n.index, outcome);
  await reportNodeEvents(deps, bay, name, n, outcome);
  if (!outcome.ok) {
    scope.failures.push(outcome.failure);
    ctx.log.warn({ node: name, stage: outcome.stage, reason: outcome.failure.reason, err: outcome.failure.cause }, 'node not ready');
  } else if (outcome.created) {
    deps.ledger.settle(name);
  }
}

/**
 * A node that was Ready, still runs at the same address, and whose certificate in the cache still
 * serves needs no call to its host or its dockerd: the swarm listing confirms it.
 */
function settledOutcome(scope: BayScope, deps: BayControllerDeps, n: PlannedNode, ref: HostRef): NodeOutcome | undefined {
  const found = n.discovered;
  if (n.state !== 'present' || !found?.running || !found.address || n.recorded?.state !== 'Ready' || n.recorded.address !== found.address) return undefined;
  let cert;
  try {
    cert = storedNodeCertificate(deps.secrets, scope.bay, scope.pki as BayPki, { name: found.name, address: found.address });
  } catch {
    return undefined;
  }
  if (!cert) return undefined;
  const view = ref.view?.ok ? ref.view : undefined;
  const bay = scope.bay;
  const drift = found.info
    ? nodeDrift(found.info, {
        flavor: { cpu: bay.spec.flavor.cpu, memoryBytes: parseBytes(bay.spec.flavor.memory), diskBytes: parseBytes(bay.spec.flavor.disk) },
        kernelModules: ref.aggregate.spec.kernelModules ?? SWARM_KERNEL_MODULES,
        imageFingerprint: view?.images.get(ref.aggregate.spec.image),
      })
    : [];
  return { ok: true, address: found.address, certificateNotAfter: cert.notAfter, created: false, drift, repaired: [] };
}

async function reportNodeEvents(deps: BayControllerDeps, bay: Bay, name: string, n: PlannedNode, outcome: NodeOutcome): Promise<void> {
  if (!outcome.ok) return;
  if (outcome.created) {
    await deps.events.record(bay, { type: 'Normal', reason: 'NodeCreated', action: 'Provision', note: `node ${name} (${n.role}) created on host ${n.host}` });
  }
  if (outcome.repaired.length > 0) {
    await deps.events.record(bay, { type: 'Normal', reason: 'NodeReconfigured', action: 'Provision', note: `node ${name} had never run workloads; reconfigured: ${describeDrift(outcome.repaired)}` });
  }
  const problem = driftProblem(outcome);
  if (problem && n.recorded?.problem !== problem) {
    await deps.events.record(bay, { type: 'Warning', reason: 'NodeDrifted', action: 'Observe', note: `node ${name}: ${problem}` });
  }
}

export function driftProblem(outcome: NodeOutcome): string | undefined {
  if (!outcome.ok || outcome.drift.length === 0) return undefined;
  return `its instance differs from what its aggregate and flavor ask now: ${describeDrift(outcome.drift)}; a node that ran workloads is not changed`;
}

async function reportPlanEvents(deps: BayControllerDeps, bay: Bay, plan: NodePlan, scheduled: ScheduleResult): Promise<void> {
  const lostBefore = new Set((bay.status?.nodes ?? []).filter((n) => n.state === 'Lost').map((n) => n.name));
  for (const lost of plan.lost.filter((l) => !lostBefore.has(l.name))) {
    await deps.events.record(bay, { type: 'Warning', reason: 'NodeLost', action: 'Observe', note: `node ${lost.name} is gone from host ${lost.host ?? '?'}; placing a replacement` });
  }
  for (const u of scheduled.unschedulable) {
    await deps.events.record(bay, { type: 'Warning', reason: 'Unschedulable', action: 'Place', note: describeUnschedulable(u) });
  }
}

async function reportSwarmEvents(deps: BayControllerDeps, scope: BayScope): Promise<void> {
  const { swarm, bay } = scope;
  if (!swarm) return;
  if (swarm.initialised && swarm.anchor) {
    await deps.events.record(bay, { type: 'Normal', reason: 'SwarmInitialised', action: 'FormSwarm', note: `swarm initialised on ${swarm.anchor.name}` });
  }
  for (const name of swarm.joined) await deps.events.record(bay, { type: 'Normal', reason: 'NodeJoined', action: 'FormSwarm', note: `node ${name} joined the swarm` });
  for (const name of swarm.removed) await deps.events.record(bay, { type: 'Normal', reason: 'SwarmMemberRemoved', action: 'FormSwarm', note: `removed swarm member ${name}, whose node is gone` });
}
