import type { Bay, BayNodeStatus, HostAggregate } from '../../api/types.generated.js';
import { DOCKER_TLS_PORT } from '../../pki/index.js';
import type { EventRecorder } from '../../runtime/events.js';
import { addFinalizer } from '../../runtime/finalizers.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import { describeUnschedulable, type ScheduleResult } from '../../scheduler/index.js';
import type { HostRegistry } from '../host-registry.js';
import { BAY, NAMESPACE, type NamespaceObject } from '../kinds.js';
import { ensureBayPki, type BayPki } from './certificates.js';
import { publishCredentials } from './credentials.js';
import { finalizeBay } from './deletion.js';
import { discoverBayNodes, type Discovery } from './discovery.js';
import { FINALIZER, hostKey, nodeName } from './names.js';
import { bringUpNode, DEFAULT_NODE_TIMEOUTS, messageOf, type NodeOutcome, type NodeTimeouts } from './nodes.js';
import { placeNewNodes, placementRequest, type PlacementLedger } from './placement.js';
import { planNodes, type NodePlan, type PlannedNode } from './plan.js';
import { computeBayStatus, recordLoss, type BayFacts, type NodeFact } from './status.js';
import { ensureSwarm, type LiveNode, type SwarmFacts } from './swarm.js';

export interface BayControllerDeps {
  readonly client: KubeClient;
  readonly bays: Informer<Bay>;
  readonly aggregates: Informer<HostAggregate>;
  readonly registry: HostRegistry;
  readonly events: EventRecorder;
  readonly ledger: PlacementLedger;
  readonly timeouts?: NodeTimeouts;
  /** How often a converged bay is checked again (nodes still there, swarm healthy). */
  readonly resyncMs: number;
  /** How soon a bay that is not converged yet is looked at again. */
  readonly retryMs: number;
}

/**
 * fetch → finalizer → (deleting? clean up) → phases → status. The phases record facts; conditions are
 * computed from them in status.ts. Every phase is idempotent, so a crash at any line is repaired by the
 * next reconcile: nodes are found by their ownership on the hosts, the CA by its Secret.
 */
export function bayReconciler(deps: BayControllerDeps): Reconciler {
  return async (req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const cached = deps.bays.store.get(req.key);
    if (!cached) return {};
    if (cached.metadata.deletionTimestamp) return finalizeBay(deps, cached, ctx);
    const timer = new PhaseTimer();
    const { bay, facts } = await converge(deps, await addFinalizer(deps.client, BAY, cached, FINALIZER), ctx, timer);
    const status = computeBayStatus(bay, facts, new Date());
    await timer.time('status', () => patchStatus(deps.client, BAY, bay, status, ctx.signal));
    ctx.log.info({ phase: status.phase, readyNodes: status.readyNodes, phaseMs: timer.durations }, 'bay reconciled');
    await recordPhaseChange(deps.events, bay, status.phase, status.conditions?.[0]?.message ?? '');
    return { requeueAfter: status.phase === 'Ready' ? deps.resyncMs : deps.retryMs };
  };
}

/** Wall-clock milliseconds per phase of one reconcile, logged with it (and read by bench/bay-ready.ts). */
class PhaseTimer {
  readonly durations: Record<string, number> = {};

  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.durations[phase] = Math.round((this.durations[phase] ?? 0) + performance.now() - started);
    }
  }
}

async function converge(deps: BayControllerDeps, observed: Bay, ctx: ReconcileContext, timer: PhaseTimer): Promise<{ bay: Bay; facts: BayFacts }> {
  let pki: BayPki;
  try {
    pki = await timer.time('certificates', () => ensureBayPki(deps.client, observed, ctx.signal));
  } catch (err) {
    ctx.log.error({ err }, 'certificates phase failed');
    const facts = { certificates: { ok: false as const, message: messageOf(err) }, desired: observed.spec.nodes, nodes: [], unschedulable: [], unreachable: new Map() };
    return { bay: observed, facts };
  }
  const certificates = { ok: true as const, caNotAfter: pki.ca.notAfter };
  const aggregates = deps.aggregates.store.list();
  const discovery = await timer.time('discovery', () => discoverBayNodes(observed, aggregates, deps.registry, ctx.signal));
  const plan = planNodes({
    specNodes: observed.spec.nodes,
    specManagers: observed.spec.managers,
    ...(observed.status?.autoscale?.target !== undefined ? { autoscaleTarget: observed.status.autoscale.target } : {}),
    recorded: observed.status?.nodes ?? [],
    discovered: discovery.discovered,
    unreachableHosts: new Set(discovery.unreachable.keys()),
  });
  const { scheduled, nodes, bay } = await timer.time('placement', async () => {
    const request = placementRequest(observed, await namespaceLabels(deps.client, observed, ctx.signal));
    const result = await placeNewNodes(plan, request, discovery, deps.ledger, (i) => nameOf(observed, i));
    const placed = withPlacements(plan, result);
    return { scheduled: result, nodes: placed, bay: await recordIntents(deps, observed, placed, plan.lost, ctx) };
  });
  await reportPlanEvents(deps.events, bay, plan, scheduled);

  const outcomes = await timer.time('nodes', () => provisionNodes(deps, bay, pki, nodes, discovery, ctx));
  const live: LiveNode[] = nodes.flatMap((n) => {
    const o = outcomes.get(n.index);
    return o?.ok ? [{ name: nameOf(bay, n.index, n), index: n.index, role: n.role, address: o.address }] : [];
  });
  const liveNames = new Set(nodes.map((n) => nameOf(bay, n.index, n)));
  let swarm: SwarmFacts | undefined;
  let swarmError: string | undefined;
  if (live.length > 0) {
    try {
      swarm = await timer.time('swarm', () => ensureSwarm(pki, live, liveNames));
      await reportSwarmEvents(deps.events, bay, swarm);
    } catch (err) {
      swarmError = messageOf(err);
      ctx.log.warn({ err }, 'swarm phase failed');
    }
  }
  const endpoint = swarm?.anchor ? `tcp://${swarm.anchor.address}:${DOCKER_TLS_PORT}` : bay.status?.endpoint;
  let credentials: BayFacts['credentials'];
  if (swarm?.anchor) {
    const address = swarm.anchor.address;
    credentials = await timer.time('credentials', () => publishCredentials(deps.client, bay, pki, address, ctx.signal));
  }
  const facts: BayFacts = {
    certificates,
    desired: plan.desired,
    nodes: [...nodes.map((n) => nodeFact(bay, n, outcomes.get(n.index), discovery, swarm)), ...lostFacts(plan, swarm)],
    unschedulable: scheduled.unschedulable,
    unreachable: discovery.unreachable,
    ...(swarm ? { swarm } : {}),
    ...(swarmError ? { swarmError } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(credentials ? { credentials } : {}),
  };
  return { bay, facts };
}

const nameOf = (bay: Bay, index: number, node?: PlannedNode): string => node?.name ?? nodeName(bay.metadata.name!, bay.metadata.namespace!, index);

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
  await patchStatus(deps.client, BAY, bay, status, ctx.signal);
  return { ...bay, status };
}

async function provisionNodes(deps: BayControllerDeps, bay: Bay, pki: BayPki, nodes: readonly PlannedNode[], discovery: Discovery, ctx: ReconcileContext): Promise<Map<number, NodeOutcome>> {
  const outcomes = new Map<number, NodeOutcome>();
  await Promise.all(
    nodes.map(async (n) => {
      if (n.state === 'unknown' || !n.aggregate || !n.host) return;
      const ref = discovery.hosts.get(hostKey(n.aggregate, n.host));
      if (!ref?.provider) return;
      const name = nameOf(bay, n.index, n);
      const outcome = await bringUpNode(deps.client, bay, pki, { name, index: n.index, role: n.role, provider: ref.provider, image: ref.aggregate.spec.image, bridge: ref.aggregate.spec.network.bridge }, deps.timeouts ?? DEFAULT_NODE_TIMEOUTS, ctx.signal);
      outcomes.set(n.index, outcome);
      if (outcome.ok && outcome.created) {
        deps.ledger.settle(name);
        await deps.events.record(bay, { type: 'Normal', reason: 'NodeCreated', action: 'Provision', note: `node ${name} (${n.role}) created on host ${n.host}` });
      }
      if (!outcome.ok) ctx.log.warn({ node: name, stage: outcome.stage, problem: outcome.message }, 'node not ready');
    }),
  );
  return outcomes;
}

function nodeFact(bay: Bay, n: PlannedNode, outcome: NodeOutcome | undefined, discovery: Discovery, swarm: SwarmFacts | undefined): NodeFact {
  const name = nameOf(bay, n.index, n);
  const base = { name, index: n.index, role: n.role, ...(n.aggregate ? { aggregate: n.aggregate } : {}), ...(n.host ? { host: n.host } : {}) };
  if (n.state === 'unknown') {
    const why = discovery.unreachable.get(hostKey(n.aggregate ?? '', n.host ?? '')) ?? 'host unreachable';
    return { ...base, state: 'Lost', ready: false, problem: `host cannot be reached (${why}); the node is kept, not replaced`, ...(n.recorded?.address ? { address: n.recorded.address } : {}) };
  }
  if (!outcome) return { ...base, state: 'Pending', ready: false };
  if (!outcome.ok) return { ...base, state: outcome.stage === 'provision' ? 'Provisioning' : 'Running', ready: false, problem: outcome.message, ...(outcome.address ? { address: outcome.address } : {}) };
  const member = swarm?.members.get(name);
  const ready = member?.state === 'ready';
  return {
    ...base,
    state: ready ? 'Ready' : 'Running',
    ready,
    address: outcome.address,
    certificateNotAfter: outcome.certificateNotAfter,
    ...(member ? { swarmNodeID: member.id } : {}),
    ...(ready ? {} : { problem: member ? `swarm member is ${member.state}` : 'not a swarm member yet' }),
  };
}

/** Nodes confirmed gone stay visible (as Lost) until their swarm member has been removed. */
function lostFacts(plan: NodePlan, swarm: SwarmFacts | undefined): NodeFact[] {
  return plan.lost
    .filter((l) => !swarm || swarm.members.has(l.name))
    .map((l) => ({
      name: l.name,
      index: l.index,
      role: l.role,
      state: 'Lost' as const,
      ready: false,
      problem: 'its instance is gone from its host; a replacement takes its place',
      ...(l.aggregate ? { aggregate: l.aggregate } : {}),
      ...(l.host ? { host: l.host } : {}),
    }));
}

async function namespaceLabels(client: KubeClient, bay: Bay, signal?: AbortSignal): Promise<Record<string, string>> {
  const ns = await client.get<NamespaceObject>(NAMESPACE, { name: bay.metadata.namespace! }, signal);
  return ns.metadata.labels ?? {};
}

async function reportPlanEvents(events: EventRecorder, bay: Bay, plan: NodePlan, scheduled: ScheduleResult): Promise<void> {
  const lostBefore = new Set((bay.status?.nodes ?? []).filter((n) => n.state === 'Lost').map((n) => n.name));
  for (const lost of plan.lost.filter((l) => !lostBefore.has(l.name))) {
    await events.record(bay, { type: 'Warning', reason: 'NodeLost', action: 'Observe', note: `node ${lost.name} is gone from host ${lost.host ?? '?'}; placing a replacement` });
  }
  for (const u of scheduled.unschedulable) {
    await events.record(bay, { type: 'Warning', reason: 'Unschedulable', action: 'Place', note: describeUnschedulable(u) });
  }
}

async function reportSwarmEvents(events: EventRecorder, bay: Bay, swarm: SwarmFacts): Promise<void> {
  if (swarm.initialised && swarm.anchor) {
    await events.record(bay, { type: 'Normal', reason: 'SwarmInitialised', action: 'FormSwarm', note: `swarm initialised on ${swarm.anchor.name}` });
  }
  for (const name of swarm.joined) await events.record(bay, { type: 'Normal', reason: 'NodeJoined', action: 'FormSwarm', note: `node ${name} joined the swarm` });
  for (const name of swarm.removed) await events.record(bay, { type: 'Normal', reason: 'SwarmMemberRemoved', action: 'FormSwarm', note: `removed swarm member ${name}, whose node is gone` });
}

async function recordPhaseChange(events: EventRecorder, bay: Bay, phase: string | undefined, message: string): Promise<void> {
  if (!phase || phase === bay.status?.phase) return;
  const warning = phase === 'Degraded' || phase === 'Failed';
  await events.record(bay, { type: warning ? 'Warning' : 'Normal', reason: `Bay${phase}`, action: 'Reconcile', note: message });
}
