import type { Bay, BayNodeStatus, HostAggregate } from '../../api/types.generated.js';
import {
  isNodeGone,
  nodeDrift,
  SWARM_KERNEL_MODULES,
  type HostProvider,
  type NodeNetwork,
} from '../../hosts/index.js';
import { parseBytes } from '../../api/quantity.js';
import type { ReconcileContext } from '../../runtime/reconcile.js';
import { formatTime } from '../../runtime/conditions.js';
import { patchStatus } from '../../runtime/status.js';
import {
  ensureEncryptedOverlay,
  rotateSwarmCa,
  swarmCaRotationDone,
  usage as readUsage,
} from '../../swarm/index.js';
import { capacityNote, decideAutoscale, type AutoscaleDecision } from './autoscale.js';
import {
  describeUnschedulable,
  describeUnschedulableForTenant,
  flavorFitsNowhere,
  type ScheduleResult,
} from '../../scheduler/index.js';
import { BAY } from '../kinds.js';
import {
  dropPreviousCa,
  ensureBayCa,
  startCaRotation,
  storedNodeLeaf,
  withOperatorClient,
  type RenewalContext,
} from './certificates.js';
import { publishCredentials } from './credentials.js';
import type { BayControllerDeps } from './deps.js';
import { discoverBayNodes, type HostRef } from './discovery.js';
import { classifyFailure, EncryptedOverlayError, RolloutError, type PhaseName } from './failures.js';
import { hostKey, nodeName } from './names.js';
import { bringUpNode, dockerTlsOf, nodeFlavorOf, recordedTls, type NodeOutcome } from './nodes.js';
import { chooseNextNode, rollNode, rolloutCandidates, type RolloutCause } from './rollout.js';
import {
  describeRotation,
  nextRotationStep,
  pendingRequest,
  reissueIssuedBefore,
  ROTATE_CERTIFICATES,
  rotationAtStart,
} from './rotation.js';
import { candidatesOf, placeNewNodes, placementRequest } from './placement.js';
import { nodeNetwork, type BridgedNodeContext } from './network.js';
import { nodeToReplace, outdatedNodes, retireNode } from './replacement.js';
import { autoscaleCap, describeQuota, holdBackForQuota, nodeQuotaOf, quotaRoom } from './quota.js';
import { planNodes, type NodePlan, type PlannedNode } from './plan.js';
import type { BayScope } from './scope.js';
import { REASONS } from './reasons.js';
import { recordLoss } from './status.js';
import { ensureSwarm, type LiveNode, type RoutingMeshProbe } from './swarm.js';
import { swarmFormation } from './swarm-formation.js';
import { routingMeshProbe } from './routing-mesh.js';
import { creationTurns, type CreationTurn } from './creation-order.js';
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

/**
 * 1. The bay's CA and marina's client certificate, each kept in a Secret of the operator's namespace;
 * a requested or due rotation starts here (a CA rotation with its new CA written before anything else).
 */
const certificatesPhase: BayPhase = {
  name: 'certificates',
  ready: () => true,
  async run(scope, deps, ctx) {
    const now = new Date();
    let authority = await ensureBayCa(deps.secrets, scope.bay, ctx.signal);
    const start = rotationAtStart(
      scope.bay,
      authority.previous !== undefined,
      authority.ca.notAfter,
      authority.policy,
      now,
    );
    if (start.newCa) authority = await startCaRotation(deps.secrets, scope.bay, authority, now, ctx.signal);
    const began = scope.rotation === undefined && start.rotation !== undefined;
    scope.rotation = start.rotation;
    if (began) await recordRotationEvent(deps, scope.bay, 'RotationStarted', describeRotation(start.rotation!));
    if (start.resumed)
      await recordRotationEvent(
        deps,
        scope.bay,
        'RolloutResumed',
        `the stopped rollout goes on: ${describeRotation(start.rotation!)}`,
      );
    scope.pki = await withOperatorClient(deps.secrets, scope.bay, authority, renewalOf(scope, now), ctx.signal);
  },
};

/** What decides, this reconcile, whether a kept leaf still serves. */
export function renewalOf(scope: BayScope, now = new Date()): RenewalContext {
  const before = reissueIssuedBefore(scope.rotation);
  return { now, ...(before ? { reissueIssuedBefore: before } : {}) };
}

async function recordRotationEvent(
  deps: BayControllerDeps,
  bay: Bay,
  reason: string,
  note: string,
  type: 'Normal' | 'Warning' = 'Normal',
): Promise<void> {
  await deps.events.record(bay, { type, reason, action: 'RotateCertificates', note });
}

/** 2a. What exists: the bay's nodes in each host's last observation. */
const discoveryPhase: BayPhase = {
  name: 'discovery',
  ready: () => true,
  async run(scope, deps) {
    scope.discovery = await discoverBayNodes(
      scope.bay,
      deps.aggregates.store.list(),
      deps.registry,
      deps.inventory,
      deps.timing.hostMaxAgeMs,
    );
  },
};

/** 2b. The grow-only plan; new nodes placed, and their placement written to status before they exist. */
const placementPhase: BayPhase = {
  name: 'placement',
  ready: (scope) => scope.discovery !== undefined,
  async run(scope, deps, ctx) {
    const bay = scope.bay;
    const discovery = scope.discovery!;
    scope.outdated = outdatedNodes(discovery);
    scope.replacement = nodeToReplace(bay, discovery, scope.outdated);
    const plan = withinQuota(
      scope,
      deps,
      planNodes({
        specNodes: bay.spec.nodes,
        specManagers: bay.spec.managers,
        ...(bay.status?.autoscale?.target !== undefined ? { autoscaleTarget: bay.status.autoscale.target } : {}),
        recorded: bay.status?.nodes ?? [],
        discovered: discovery.discovered,
        unreachableHosts: new Set(discovery.unreachable.keys()),
        leaving: new Set(scope.replacement ? [scope.replacement.node] : []),
      }),
    );
    const labels = deps.namespaces.store.get(bay.metadata.namespace!)?.metadata.labels ?? {};
    const request = placementRequest(bay, labels);
    const scheduled = placeNewNodes(plan, request, discovery, deps.ledger, (i) => nameOf(bay, i));
    scope.plan = plan;
    scope.scheduled = scheduled;
    if (
      scheduled.unschedulable.length > 0 &&
      flavorFitsNowhere(request, candidatesOf(discovery, undefined, new Set(), Date.now()))
    ) {
      scope.fitsNowhere = true;
      const message = `the flavor (${bay.spec.flavor.cpu} CPUs, ${bay.spec.flavor.memory} memory, ${bay.spec.flavor.disk} disk) is larger than any eligible host, even empty`;
      scope.failures.push({
        phase: 'placement',
        kind: 'terminal',
        reason: REASONS.flavorTooLarge,
        message,
        cause: undefined,
      });
    }
    const placed = withPlacements(plan, scheduled);
    // New nodes join the work only once their placement is in status: no instance without a record.
    scope.nodes = placed.filter((n) => n.state !== 'new');
    scope.bay = await recordIntents(deps, bay, placed, plan.lost, ctx);
    scope.nodes = placed;
    await reportPlanEvents(deps, scope.bay, plan, scheduled, scope.quotaHeld);
    // Every host and why, for the operator's eyes: tenants read a version without other aggregates.
    if (scheduled.unschedulable.length > 0) ctx.log.info({ unschedulable: scheduled.unschedulable.map(describeUnschedulable) }, 'nodes wait for room');
  },
};

/**
 * The plan with new nodes past the namespace's node quota held back (never existing ones), and what the
 * bay now holds noted in the ledger at once, before any other bay of the namespace is planned.
 */
function withinQuota(scope: BayScope, deps: BayControllerDeps, plan: NodePlan): NodePlan {
  const bay = scope.bay;
  const namespace = bay.metadata.namespace!;
  const others = deps.bays.store.list().filter((b) => b.metadata.namespace === namespace);
  const quota = nodeQuotaOf(deps.namespaces.store.get(namespace), bay, others, deps.quotaLedger);
  const has = plan.nodes.filter((n) => n.state !== 'new').length;
  const { kept, held } = holdBackForQuota(plan.nodes, quotaRoom(quota, has));
  deps.quotaLedger.note(bay, kept.length);
  scope.quota = quota;
  if (quota && held > 0) {
    scope.quotaHeld = { held, message: describeQuota(quota, namespace, kept.length, held) };
  }
  return { ...plan, nodes: kept };
}

/**
 * 3 and 4. Each node created or adopted, running, addressed, and serving marina over mutual TLS; a new
 * node then joins the swarm at once, without waiting for the others (swarm-formation.ts).
 */
const nodesPhase: BayPhase = {
  name: 'nodes',
  ready: (scope) => scope.pki !== undefined && scope.discovery !== undefined && scope.plan !== undefined,
  async run(scope, deps, ctx) {
    const pki = scope.pki!;
    const formation = swarmFormation({
      connect: (address) => deps.docker(dockerTlsOf(pki), address),
      nodes: scope.nodes,
      hasSwarm: endpointAddressOf(scope.bay) !== undefined || scope.nodes.some((n) => n.recorded?.state === 'Ready'),
      leaving: (n) => n.leaving === true || isRetiring(scope, nameOf(scope.bay, n.index, n)),
      onJoined: (seconds) => deps.metrics?.provisioned('swarm_join', seconds),
      routingMesh: routingMeshOf(scope),
      onFailure: (node, err) => ctx.log.debug({ node, err }, 'early swarm step failed; the swarm phase tries again'),
    });
    if (formation) scope.formation = formation;
    const turns = creationTurns(scope.nodes);
    await Promise.all(
      scope.nodes.map(async (n) => {
        await bringUp(scope, deps, n, ctx, turns.get(n.index));
        await formation?.afterBringUp(n, nameOf(scope.bay, n.index, n), scope.outcomes.get(n.index));
      }),
    );
  },
};

/** Whether a node's kernel carries the routing mesh, asked through the host the node is placed on. */
function routingMeshOf(scope: BayScope): RoutingMeshProbe {
  return routingMeshProbe((name) => {
    const n = scope.nodes.find((planned) => nameOf(scope.bay, planned.index, planned) === name);
    if (!n?.aggregate || !n.host) return undefined;
    return scope.discovery?.hosts.get(hostKey(n.aggregate, n.host))?.provider;
  });
}

/** The address the bay's endpoint names (`tcp://10.0.0.5:2376` → `10.0.0.5`), once it has one. */
function endpointAddressOf(bay: Bay): string | undefined {
  return bay.status?.endpoint?.replace(/^tcp:\/\//, '').replace(/:\d+$/, '');
}

/** 5. One swarm across the live nodes. */
const swarmPhase: BayPhase = {
  name: 'swarm',
  ready: (scope) => scope.pki !== undefined && liveNodes(scope).length > 0,
  async run(scope, deps) {
    const pki = scope.pki!;
    // A retiring node is on its way out: not joined again, not promoted again once demoted. Its member
    // is not removed while it is up (it stays among the names).
    const live = liveNodes(scope).filter((n) => !isRetiring(scope, n.name));
    const names = new Set(scope.nodes.map((n) => nameOf(scope.bay, n.index, n)));
    const recorded = new Map((scope.bay.status?.nodes ?? []).map((n) => [n.name, n]));
    const settled = live.every((n) => recorded.get(n.name)?.state === 'Ready');
    const anchorAddress = endpointAddressOf(scope.bay);
    const facts = await ensureSwarm((address) => deps.docker(dockerTlsOf(pki), address), live, names, {
      settled,
      ...(anchorAddress ? { anchorAddress } : {}),
      onJoined: (seconds) => deps.metrics?.provisioned('swarm_join', seconds),
      routingMesh: routingMeshOf(scope),
    });
    // What the nodes phase already did counts as done this time (its Events, the SwarmInitialised one).
    const early = scope.formation;
    const joined = [...new Set([...(early?.joined ?? []), ...facts.joined])];
    scope.swarm = { ...facts, joined, initialised: facts.initialised || early?.initialised === true };
    await reportSwarmEvents(deps, scope);
  },
};

/**
 * 5a. The swarm's encrypted overlay network, when the bay asks for one: made once on a manager, then
 * only recorded (a converged bay calls no dockerd for it).
 */
const encryptedOverlayPhase: BayPhase = {
  name: 'overlay',
  ready: (scope) =>
    scope.bay.spec.network?.encryptOverlay === true && scope.pki !== undefined && scope.swarm?.anchor !== undefined,
  async run(scope, deps) {
    const recorded = scope.bay.status?.network?.encryptedOverlay;
    if (recorded) {
      scope.encryptedOverlay = recorded;
      return;
    }
    requireEsp(scope);
    const manager = deps.docker(dockerTlsOf(scope.pki!), scope.swarm!.anchor!.address);
    scope.encryptedOverlay = await ensureEncryptedOverlay(manager);
    const note = `attachable overlay network ${scope.encryptedOverlay} made, its traffic between nodes encrypted`;
    await deps.events.record(scope.bay, { type: 'Normal', reason: 'EncryptedOverlayCreated', action: 'Create', note });
  },
};

/**
 * An encrypted network whose packets a host's kernel cannot encrypt would drop them between nodes
 * without a word: it is made only once every host of the bay's nodes is known to have ESP.
 */
function requireEsp(scope: BayScope): void {
  const hosts = new Map<string, HostRef>();
  for (const n of scope.nodes) {
    const ref = n.aggregate && n.host ? scope.discovery?.hosts.get(hostKey(n.aggregate, n.host)) : undefined;
    if (ref) hosts.set(ref.key, ref);
  }
  for (const ref of hosts.values()) {
    const seen = ref.aggregate.status?.hosts?.find((h) => h.name === ref.host.name)?.capabilities?.kernelModules;
    if (!seen) {
      const waiting = `waiting to learn whether host ${ref.host.name}'s kernel has IPsec ESP`;
      throw new EncryptedOverlayError('unknown', waiting);
    }
    if (seen.missing?.includes('esp4')) {
      throw new EncryptedOverlayError(
        'unsupported',
        `host ${ref.host.name}'s kernel has no IPsec ESP with AES-GCM (esp4): traffic on an encrypted overlay ` +
          'could not pass between nodes, so none is made',
      );
    }
  }
}

/**
 * 5b. Autoscaling: a ready swarm's reservations read from a manager; the node target raised (never
 * lowered) when they pass the threshold or tasks wait for room. The normal grow path adds the nodes.
 */
const autoscalePhase: BayPhase = {
  name: 'autoscale',
  ready: (scope) =>
    scope.bay.spec.autoscale?.enabled === true &&
    scope.pki !== undefined &&
    scope.swarm?.anchor !== undefined &&
    scope.plan !== undefined,
  async run(scope, deps) {
    const { bay, plan, swarm } = scope;
    const perNode = { nanoCpus: bay.spec.flavor.cpu * 1e9, memoryBytes: parseBytes(bay.spec.flavor.memory) };
    const manager = deps.docker(dockerTlsOf(scope.pki!), swarm!.anchor!.address);
    const usage = await readUsage(manager, { nodeCapacity: perNode });
    // While nodes join, capacity is still missing from the reading: judge once they are ready members.
    const live = liveNodes(scope);
    const joining = live.length < plan!.desired || live.some((n) => swarm!.members.get(n.name)?.state !== 'ready');
    const lastScaleUp = bay.status?.autoscale?.lastScaleUpTime;
    const decision: AutoscaleDecision = joining
      ? { kind: 'steady' }
      : decideAutoscale({
          spec: bay.spec.autoscale!,
          desired: plan!.desired,
          perNode,
          usage,
          lastScaleUp: lastScaleUp ? new Date(lastScaleUp) : undefined,
          now: new Date(),
          ...(scope.quota ? { quota: autoscaleCap(scope.quota, bay.metadata.namespace!) } : {}),
        });
    const note = capacityNote(usage, perNode);
    scope.autoscale = { usage, decision, ...(note ? { capacityNote: note } : {}) };
    if (decision.kind === 'grow') {
      deps.metrics?.scaledUp(bay);
      await deps.events.record(bay, { type: 'Normal', reason: 'ScaledUp', action: 'Autoscale', note: decision.reason });
    }
  },
};

/**
 * 6. Rolling restarts for TLS: one node per reconcile is drained, given its new files, restarted,
 * checked and reactivated (rollout.ts); the bay is requeued at once for the next.
 */
const rolloutPhase: BayPhase = {
  name: 'rollout',
  ready: (scope) => scope.pki !== undefined && scope.plan !== undefined && scope.discovery !== undefined,
  async run(scope, deps, ctx) {
    const pki = scope.pki!;
    const now = new Date();
    const renewal = renewalOf(scope, now);
    const inputs = scope.nodes
      .filter((n) => n.state !== 'unknown' && !n.leaving)
      .map((n) => {
        const name = nameOf(scope.bay, n.index, n);
        const memberDown = scope.swarm?.members.get(name)?.state === 'down';
        return {
          name,
          index: n.index,
          role: n.role,
          recorded: n.recorded,
          outcome: scope.outcomes.get(n.index),
          memberDown,
        };
      });
    const candidates = rolloutCandidates(
      inputs,
      pki,
      (index) => storedNodeLeaf(deps.secrets, scope.bay, index),
      renewal,
    );
    scope.rollout = { pending: candidates.length };
    if (candidates.length === 0) return;
    if (!scope.rotation && candidates.some((c) => c.cause === 'expiring')) {
      scope.rotation = { kind: 'Leaves', reason: 'Expiring', step: 'Rolling', startedTime: formatTime(now) };
      await recordRotationEvent(deps, scope.bay, 'RotationStarted', describeRotation(scope.rotation));
    }
    if (scope.rotation?.stoppedTime) {
      scope.rollout.waiting = `stopped since ${scope.rotation.stoppedTime}; annotate ${ROTATE_CERTIFICATES} with a new value to go on`;
      return;
    }
    const bayNodes = new Set(inputs.map((i) => i.name));
    const choice = chooseNextNode(candidates, [...(scope.swarm?.members.values() ?? [])], bayNodes);
    if ('wait' in choice) {
      scope.rollout.waiting = choice.wait;
      return;
    }
    const candidate = choice.next;
    const anchor = scope.swarm?.anchor;
    const planned = scope.nodes.find((n) => n.index === candidate.index)!;
    const host = scope.discovery!.hosts.get(hostKey(planned.aggregate ?? '', planned.host ?? ''));
    const provider = host?.provider;
    // Without any manager answering there is nothing to drain through: only a node that must be repaired,
    // or whose certificate has expired (no manager will answer before it is renewed), goes on without.
    if (!provider || (!anchor && candidate.cause !== 'repair' && !candidate.expired)) {
      scope.rollout.waiting = provider
        ? 'waiting for a swarm manager to answer'
        : `waiting for the host of ${candidate.name}`;
      return;
    }
    try {
      const rolled = await rollNode(
        deps,
        scope.bay,
        pki,
        { candidate, provider, managerAddress: anchor?.address, bayNodes },
        renewal,
        ctx,
      );
      scope.bay = rolled.bay;
      const before = scope.outcomes.get(candidate.index);
      scope.outcomes.set(candidate.index, {
        ok: true,
        address: candidate.address,
        tls: rolled.tls,
        created: false,
        drift: before?.ok ? before.drift : [],
        repaired: [],
      });
      removeNodeFailures(scope, candidate.name);
      scope.rollout = { pending: candidates.length - 1, rolled: candidate.name };
      const why = ROLLOUT_CAUSE_WORDS[candidate.cause];
      await recordRotationEvent(
        deps,
        scope.bay,
        'NodeRestarted',
        `node ${candidate.name} restarted with new TLS files (${why}); it serves certificate ${rolled.tls.serial}`,
      );
    } catch (err) {
      // Gone while being restarted: the next reconcile's plan finds it lost and replaces it.
      if (isNodeGone(err)) deps.inventory.dropNode(host!.inventoryKey, candidate.name);
      if (err instanceof RolloutError) {
        const rotation = scope.rotation ?? {
          kind: 'Leaves' as const,
          reason: candidate.cause === 'expiring' ? ('Expiring' as const) : ('Repair' as const),
          step: 'Rolling' as const,
          startedTime: formatTime(now),
        };
        scope.rotation = { ...rotation, stoppedTime: formatTime(now), stoppedMessage: err.message.slice(0, 4000) };
        scope.rollout = { pending: candidates.length, stoppedAt: candidate.name };
      }
      throw err;
    }
  },
};

const ROLLOUT_CAUSE_WORDS: Record<RolloutCause, string> = {
  missing: 'its certificate was missing',
  expiring: 'its certificate fell due',
  requested: 'rotation requested',
  'new-ca': 'new CA',
  'new-address': 'its address changed',
  'tls-changed': 'trusted CAs changed',
  repair: 'it no longer answered over TLS',
};

function removeNodeFailures(scope: BayScope, node: string): void {
  for (let i = scope.failures.length - 1; i >= 0; i--)
    if (scope.failures[i]!.node === node) scope.failures.splice(i, 1);
}

/**
 * 6b. Replacing a node, surge first (replacement.ts): the placement phase planned its replacement; once
 * every node that stays is a ready swarm member, the old one is drained, demoted, and deleted.
 */
const replacementPhase: BayPhase = {
  name: 'replacement',
  ready: (scope) => scope.replacement !== undefined && scope.pki !== undefined && scope.plan !== undefined,
  async run(scope, deps, ctx) {
    const replacement = scope.replacement!;
    const leaving = scope.nodes.find((n) => n.leaving && n.state === 'present');
    const ref = leaving && scope.discovery!.hosts.get(hostKey(leaving.aggregate ?? '', leaving.host ?? ''));
    if (!leaving?.name || !ref?.provider) {
      scope.replacement = { ...replacement, waiting: `waiting for the host of ${replacement.node} to answer` };
      return;
    }
    const staying = scope.nodes.filter((n) => !n.leaving).map((n) => nameOf(scope.bay, n.index, n));
    // The drain and the demotion go through a manager that stays (the anchor may be the leaving node).
    const manager = liveNodes(scope).find(
      (n) => staying.includes(n.name) && scope.swarm?.members.get(n.name)?.role === 'manager' &&
        scope.swarm.members.get(n.name)?.state === 'ready',
    );
    const target = {
      node: { ...leaving, name: leaving.name },
      provider: ref.provider,
      manager: manager ? deps.docker(dockerTlsOf(scope.pki!), manager.address) : undefined,
      members: scope.swarm?.members ?? new Map(),
      staying,
      desired: scope.plan!.desired,
    };
    const { bay, outcome } = await retireNode(deps, scope.bay, target, ctx);
    scope.bay = bay;
    if (!outcome.retired) {
      scope.replacement = { ...replacement, waiting: outcome.waiting };
      return;
    }
    deps.inventory.dropNode(ref.inventoryKey, leaving.name);
    scope.nodes = scope.nodes.filter((n) => n !== leaving);
    scope.outcomes.delete(leaving.index);
    scope.replacement = { ...replacement, retired: true };
    await deps.events.record(scope.bay, {
      type: 'Normal',
      reason: 'NodeRetired',
      action: 'Replace',
      note: `node ${leaving.name} replaced (${replacement.why}): drained, removed from the swarm and deleted`,
    });
  },
};

/** The node is being retired: status says so, and only a replacement makes that happen. */
function isRetiring(scope: BayScope, name: string): boolean {
  return scope.replacement?.node === name && scope.bay.status?.nodes?.find((n) => n.name === name)?.state === 'Retiring';
}

/** 7. The swarm's own CA, rotated on request; the bay waits until every member trusts the new root. */
const swarmCaPhase: BayPhase = {
  name: 'swarmCa',
  ready: (scope) => scope.pki !== undefined && scope.swarm?.anchor !== undefined,
  async run(scope, deps) {
    const manager = deps.docker(dockerTlsOf(scope.pki!), scope.swarm!.anchor!.address);
    const current = scope.swarmCaRotation;
    if (!current) {
      const asked = pendingRequest(scope.bay, 'rotateSwarmCa');
      if (asked === undefined) return;
      await rotateSwarmCa(manager);
      scope.swarmCaRotation = { request: asked, startedTime: formatTime(new Date()) };
      await recordRotationEvent(
        deps,
        scope.bay,
        'SwarmCaRotationStarted',
        `the swarm rotates its CA (requested: ${asked}); members renew their certificates`,
      );
      return;
    }
    const progress = await swarmCaRotationDone(manager);
    if (!progress.done) return;
    scope.finished.push({ kind: 'SwarmCA', handled: { rotateSwarmCa: current.request } });
    scope.swarmCaRotation = undefined;
    await recordRotationEvent(
      deps,
      scope.bay,
      'SwarmCaRotated',
      `every swarm member trusts the swarm's new root CA (requested: ${current.request})`,
    );
  },
};

/**
 * 9. The tenant's credentials bundle, pointing at the anchor manager; after the rotation phase, so the
 * reconcile that enters a CA rotation's overlap publishes the new bundle.
 */
const credentialsPhase: BayPhase = {
  name: 'credentials',
  ready: (scope) => scope.pki !== undefined && scope.swarm?.anchor !== undefined,
  async run(scope, deps, ctx) {
    const holdOldCa = scope.rotation?.kind === 'CA' && scope.rotation.step === 'Rolling';
    scope.credentials = await publishCredentials(
      deps.secrets,
      scope.bay,
      scope.pki!,
      scope.swarm!.anchor!.address,
      { ...renewalOf(scope), holdOldCa },
      ctx.signal,
    );
  },
};

/** 8. A rotation's next step once its rollout is through: overlap, dropping the old CA, done. */
const rotationPhase: BayPhase = {
  name: 'rotation',
  ready: (scope) => scope.pki !== undefined && scope.rotation !== undefined && scope.rollout !== undefined,
  async run(scope, deps, ctx) {
    const rotation = scope.rotation!;
    const step = nextRotationStep(rotation, scope.rollout!.pending === 0, scope.pki!.policy, new Date());
    if (step.kind === 'wait') return;
    if (step.kind === 'drop-old-ca') {
      scope.pki = await dropPreviousCa(deps.secrets, scope.bay, scope.pki!, ctx.signal);
      scope.rotation = step.rotation;
      await recordRotationEvent(
        deps,
        scope.bay,
        'CaOverlapEnded',
        'the overlap is over: nodes stop trusting the old CA one by one; credentials of the old CA are refused from then on',
      );
      return;
    }
    if (step.kind === 'advance') {
      scope.rotation = step.rotation;
      await recordRotationEvent(
        deps,
        scope.bay,
        'CaOverlap',
        `every node serves a certificate of the new CA; new credentials are published; the old CA stays trusted until ${step.rotation.overlapUntil}`,
      );
      return;
    }
    scope.rotation = undefined;
    scope.finished.push({ kind: rotation.kind, ...(step.handled ? { handled: step.handled } : {}) });
    const what =
      rotation.kind === 'CA'
        ? 'CA rotation finished: only the new CA is trusted'
        : 'every node serves its renewed certificate';
    await recordRotationEvent(deps, scope.bay, 'RotationFinished', what);
  },
};

/** The phases of a bay's reconcile, in order. */
export const BAY_PHASES: readonly BayPhase[] = [
  certificatesPhase,
  discoveryPhase,
  placementPhase,
  nodesPhase,
  swarmPhase,
  encryptedOverlayPhase,
  autoscalePhase,
  rolloutPhase,
  replacementPhase,
  swarmCaPhase,
  rotationPhase,
  credentialsPhase,
];

/** Runs each ready phase; a phase's error becomes a typed failure in the scope, and the next phases go on. */
export async function runPhases(
  phases: readonly BayPhase[],
  scope: BayScope,
  deps: BayControllerDeps,
  ctx: ReconcileContext,
): Promise<void> {
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

export const nameOf = (bay: Bay, index: number, node?: PlannedNode): string =>
  node?.name ?? nodeName(bay.metadata.name!, bay.metadata.namespace!, index);

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
async function recordIntents(
  deps: BayControllerDeps,
  bay: Bay,
  nodes: readonly PlannedNode[],
  lost: readonly BayNodeStatus[],
  ctx: ReconcileContext,
): Promise<Bay> {
  const fresh = nodes.filter((n) => n.state === 'new');
  const newlyLost = lost.filter((l) => l.state !== 'Lost');
  if (fresh.length === 0 && newlyLost.length === 0) return bay;
  const lostNames = new Set(newlyLost.map((l) => l.name));
  const recorded: BayNodeStatus[] = [
    ...(bay.status?.nodes ?? []).map((n) =>
      lostNames.has(n.name) ? { ...n, state: 'Lost' as const, ready: false } : n,
    ),
    ...fresh.map((n) => ({
      name: nameOf(bay, n.index, n),
      index: n.index,
      role: n.role,
      aggregate: n.aggregate!,
      host: n.host!,
      state: 'Pending' as const,
      ready: false,
      ...(n.replaces ? { replaces: n.replaces } : {}),
    })),
  ];
  const status = recordLoss(bay, { ...bay.status, nodes: recorded }, newlyLost, new Date());
  const written = await patchStatus(deps.client, BAY, bay, status, ctx.signal);
  deps.bays.observeWrite(written);
  return written ?? { ...bay, status };
}

async function bringUp(
  scope: BayScope,
  deps: BayControllerDeps,
  n: PlannedNode,
  ctx: ReconcileContext,
  turn?: CreationTurn,
): Promise<void> {
  try {
    await turn?.ready;
    await bringUpInTurn(scope, deps, n, ctx, turn?.done);
  } finally {
    turn?.done();
  }
}

async function bringUpInTurn(
  scope: BayScope,
  deps: BayControllerDeps,
  n: PlannedNode,
  ctx: ReconcileContext,
  created: (() => void) | undefined,
): Promise<void> {
  if (n.state === 'unknown' || !n.aggregate || !n.host) return;
  const key = hostKey(n.aggregate, n.host);
  const ref = scope.discovery!.hosts.get(key);
  const provider = ref?.provider;
  if (!ref || !provider) return;
  const bay = scope.bay;
  const name = nameOf(bay, n.index, n);
  const outcome =
    settledOutcome(scope, n, ref) ?? (await provisionNode(scope, deps, n, { ...ref, provider }, name, ctx, created));
  scope.outcomes.set(n.index, outcome);
  await reportNodeEvents(deps, bay, name, n, outcome);
  if (!outcome.ok) {
    scope.failures.push(outcome.failure);
    ctx.log.warn(
      { node: name, stage: outcome.stage, reason: outcome.failure.reason, err: outcome.failure.cause },
      'node not ready',
    );
  } else if (outcome.created) {
    deps.ledger.settle(name);
    deps.addressBook.settle(name);
  }
}

/** Its network first (the bay's own bridge on the host in isolated mode), then phases 3 and 4 for the node. */
async function provisionNode(
  scope: BayScope,
  deps: BayControllerDeps,
  n: PlannedNode,
  ref: HostRef & { readonly provider: HostProvider },
  name: string,
  ctx: ReconcileContext,
  created: (() => void) | undefined,
): Promise<NodeOutcome> {
  let network: NodeNetwork;
  try {
    const bridged = () => bridgedContext(scope, deps, ref.aggregate, n, name);
    network = await nodeNetwork(scope.networks, scope.bay, ref, n.index, bridged);
  } catch (err) {
    return { ok: false, stage: 'provision', failure: classifyFailure('nodes', err, name) };
  }
  const target = {
    name,
    index: n.index,
    role: n.role,
    provider: ref.provider,
    inventoryKey: ref.inventoryKey,
    image: ref.aggregate.spec.image,
    network,
    recorded: n.recorded,
    ...(created ? { created } : {}),
  };
  return bringUpNode(deps, scope.bay, scope.pki!, target, renewalOf(scope), ctx.signal);
}

/**
 * Where a node stands on its aggregate's network: the address its instance (or status) has, and those
 * of every other node on that network, from the hosts' last observations and from every bay's status (a
 * host that does not answer still has its nodes).
 */
function bridgedContext(
  scope: BayScope,
  deps: BayControllerDeps,
  aggregate: HostAggregate,
  n: PlannedNode,
  name: string,
): BridgedNodeContext {
  const found = scope.discovery?.discovered.find((d) => d.name === name);
  const current = found?.info?.reservedIpv4Address ?? n.recorded?.address;
  const taken = new Set<string>();
  for (const ref of scope.discovery?.hosts.values() ?? []) {
    if (ref.aggregate.metadata.name !== aggregate.metadata.name || !ref.view?.ok) continue;
    for (const node of ref.view.nodes.values()) {
      const address = node.reservedIpv4Address ?? node.ipv4Address;
      if (node.name !== name && address !== undefined) taken.add(address);
    }
  }
  for (const bay of deps.bays.list()) {
    for (const node of bay.status?.nodes ?? []) {
      if (node.name !== name && node.address !== undefined) taken.add(node.address);
    }
  }
  return { book: deps.addressBook, node: name, current, taken };
}

/**
 * A node that was Ready and still runs at the same address needs no call to its host or its dockerd:
 * the swarm listing confirms it, and whether its certificate is due is the rollout's business.
 */
function settledOutcome(scope: BayScope, n: PlannedNode, ref: HostRef): NodeOutcome | undefined {
  const found = n.discovered;
  if (n.state !== 'present' || !found?.running || !found.address || n.recorded?.state !== 'Ready') return undefined;
  const tls = recordedTls(n.recorded, found.address);
  if (!tls) return undefined;
  const view = ref.view?.ok ? ref.view : undefined;
  const bay = scope.bay;
  const drift = found.info
    ? nodeDrift(found.info, {
        flavor: nodeFlavorOf(bay),
        kernelModules: ref.aggregate.spec.kernelModules ?? SWARM_KERNEL_MODULES,
        imageFingerprint: view?.images.get(ref.aggregate.spec.image),
      })
    : [];
  return { ok: true, address: found.address, tls, created: false, drift, repaired: [] };
}

async function reportNodeEvents(
  deps: BayControllerDeps,
  bay: Bay,
  name: string,
  n: PlannedNode,
  outcome: NodeOutcome,
): Promise<void> {
  if (!outcome.ok) {
    if (outcome.restartedAfterMs === undefined) return;
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'NodeStartupTimedOut',
      action: 'Provision',
      note:
        `node ${name} was not ready ${Math.round(outcome.restartedAfterMs / 1000)} s after it started ` +
        `(${outcome.failure.message}); it had never run workloads, so marina restarted it`,
    });
    return;
  }
  if (outcome.created) {
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'NodeCreated',
      action: 'Provision',
      note: `node ${name} (${n.role}) created on host ${n.host}`,
    });
  }
  if (outcome.restarted) {
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'NodeStarted',
      action: 'Provision',
      note: `node ${name} was found stopped (not by marina); started it again, as it was`,
    });
  }
  if (outcome.repaired.length > 0) {
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'NodeReconfigured',
      action: 'Provision',
      note: `node ${name} had never run workloads; reconfigured: ${describeDrift(outcome.repaired)}`,
    });
  }
  const problem = driftProblem(outcome);
  if (problem && n.recorded?.problem !== problem) {
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'NodeDrifted',
      action: 'Observe',
      note: `node ${name}: ${problem}`,
    });
  }
}

export function driftProblem(outcome: NodeOutcome): string | undefined {
  if (!outcome.ok || outcome.drift.length === 0) return undefined;
  return `its instance differs from what its aggregate and flavor ask now: ${describeDrift(outcome.drift)}; a node that ran workloads is not changed`;
}

async function reportPlanEvents(
  deps: BayControllerDeps,
  bay: Bay,
  plan: NodePlan,
  scheduled: ScheduleResult,
  quotaHeld: BayScope['quotaHeld'],
): Promise<void> {
  const lostBefore = new Set((bay.status?.nodes ?? []).filter((n) => n.state === 'Lost').map((n) => n.name));
  for (const lost of plan.lost.filter((l) => !lostBefore.has(l.name))) {
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'NodeLost',
      action: 'Observe',
      note: `node ${lost.name} is gone from host ${lost.host ?? '?'}; placing a replacement`,
    });
  }
  if (quotaHeld) {
    const note = quotaHeld.message;
    await deps.events.record(bay, { type: 'Warning', reason: REASONS.quotaExceeded, action: 'Place', note });
  }
  for (const u of scheduled.unschedulable) {
    await deps.events.record(bay, {
      type: 'Warning',
      reason: 'Unschedulable',
      action: 'Place',
      note: describeUnschedulableForTenant(u),
    });
  }
}

async function reportSwarmEvents(deps: BayControllerDeps, scope: BayScope): Promise<void> {
  const { swarm, bay } = scope;
  if (!swarm) return;
  if (swarm.initialised && swarm.anchor) {
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'SwarmInitialised',
      action: 'FormSwarm',
      note: `swarm initialised on ${swarm.anchor.name}`,
    });
  }
  for (const name of swarm.joined)
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'NodeJoined',
      action: 'FormSwarm',
      note: `node ${name} joined the swarm`,
    });
  for (const name of swarm.removed)
    await deps.events.record(bay, {
      type: 'Normal',
      reason: 'SwarmMemberRemoved',
      action: 'FormSwarm',
      note: `removed swarm member ${name}, whose node is gone`,
    });
}
