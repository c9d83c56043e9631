import type { BayNodeStatus } from '../../api/types.generated.js';
import { DOCKER_TLS_PORT } from '../../pki/index.js';
import type { SwarmNode } from '../../swarm/index.js';
import { hostKey } from './names.js';
import type { NodeOutcome } from './nodes.js';
import { driftProblem, nameOf } from './phases.js';
import { everRan, type PlannedNode } from './plan.js';
import { REASONS } from './reasons.js';
import { upgradesNodes } from './replacement.js';
import type { BayScope } from './scope.js';
import type { BayFacts, NodeFact, RotationFacts } from './status.js';
import { renewalTimeOf } from './certificates.js';

/** The scope's findings in the shape status is computed from. */
export function factsOf(scope: BayScope): BayFacts {
  const { bay, swarm, discovery } = scope;
  const certificateFailure = scope.failures.find((f) => f.phase === 'certificates');
  const swarmFailure = scope.failures.find((f) => f.phase === 'swarm');
  const overlayFailure = scope.failures.find((f) => f.phase === 'overlay');
  const credentialsFailure = scope.failures.find((f) => f.phase === 'credentials');
  const nodeFailures = scope.failures.filter((f) => f.phase === 'nodes' || f.phase === 'placement');
  const endpoint = swarm?.anchor ? `tcp://${swarm.anchor.address}:${DOCKER_TLS_PORT}` : bay.status?.endpoint;
  return {
    certificates: scope.pki
      ? { ok: true, caNotAfter: scope.pki.ca.notAfter, operatorNotAfter: scope.pki.operator.notAfter }
      : {
          ok: false,
          reason: certificateFailure?.reason ?? REASONS.certificatesFailed,
          message: certificateFailure?.message ?? "the bay's certificates are not ready",
        },
    desired: scope.plan?.desired ?? Math.max(bay.spec.nodes, bay.status?.nodes?.length ?? 0),
    nodes: scope.plan
      ? [...scope.nodes.map((n) => nodeFact(scope, n)), ...lostFacts(scope)]
      : (bay.status?.nodes ?? []).map(unchanged),
    unschedulable: scope.scheduled?.unschedulable ?? [],
    ...(scope.fitsNowhere ? { fitsNowhere: true } : {}),
    ...(scope.quotaHeld ? { quotaHeld: scope.quotaHeld } : {}),
    unreachable: discovery?.unreachable ?? new Map(),
    ...(swarm ? { swarm } : {}),
    ...(swarmFailure ? { swarmError: swarmFailure.message } : {}),
    ...(overlayFailure ? { overlayFailure } : {}),
    ...(scope.encryptedOverlay ? { encryptedOverlay: scope.encryptedOverlay } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(scope.credentials ? { credentials: scope.credentials } : {}),
    nodeFailures: [
      ...nodeFailures.filter((f) => f.kind === 'terminal'),
      ...nodeFailures.filter((f) => f.kind === 'transient'),
    ],
    rotation: rotationFacts(scope),
    ...(scope.autoscale ? { autoscale: scope.autoscale } : {}),
    ...(credentialsFailure ? { credentialsFailure } : {}),
    ...(scope.replacement ? { replacement: scope.replacement } : {}),
    ...(scope.outdated ? { outdated: withoutRetired(scope.outdated, scope) } : {}),
    upgradesNodes: upgradesNodes(bay),
  };
}

/** A node retired this reconcile no longer runs anything. */
function withoutRetired(outdated: ReadonlyMap<string, string>, scope: BayScope): ReadonlyMap<string, string> {
  const retired = scope.replacement?.retired ? scope.replacement.node : undefined;
  return new Map([...outdated].filter(([name]) => name !== retired));
}

function nodeFact(scope: BayScope, n: PlannedNode): NodeFact {
  const { bay, discovery } = scope;
  const outcome: NodeOutcome | undefined = scope.outcomes.get(n.index);
  const name = nameOf(bay, n.index, n);
  const base = {
    name,
    index: n.index,
    role: n.role,
    ...(n.aggregate ? { aggregate: n.aggregate } : {}),
    ...(n.host ? { host: n.host } : {}),
    ...replacesOf(n),
  };
  if (n.state === 'unknown') {
    const why = discovery?.unreachable.get(hostKey(n.aggregate ?? '', n.host ?? '')) ?? 'host unreachable';
    return {
      ...base,
      state: 'Lost',
      ready: false,
      problem: `host cannot be reached (${why}); the node is kept, not replaced`,
      ...(n.recorded?.address ? { address: n.recorded.address } : {}),
    };
  }
  const fact = currentFact(scope, n, base, outcome);
  if (!n.leaving) return fact;
  const why = scope.replacement?.why ?? 'it is replaced';
  const marked = scope.bay.status?.nodes?.find((r) => r.name === name)?.state;
  if (marked === 'Retiring' || fact.state === 'Retiring') {
    return { ...fact, state: 'Retiring', ready: false, leaving: true, problem: `being retired: ${why}` };
  }
  return { ...fact, leaving: true, problem: `to be replaced: ${why}${fact.problem ? `; ${fact.problem}` : ''}` };
}

function replacesOf(n: PlannedNode): { replaces?: string } {
  const replaces = n.replaces ?? n.recorded?.replaces;
  return replaces ? { replaces } : {};
}

function currentFact(
  scope: BayScope,
  n: PlannedNode,
  base: Pick<NodeFact, 'name' | 'index' | 'role' | 'aggregate' | 'host' | 'replaces'>,
  outcome: NodeOutcome | undefined,
): NodeFact {
  const { swarm } = scope;
  const name = base.name;
  // Not looked at this time (its phase could not run): as status last said, or Pending if never seen.
  if (!outcome) return n.recorded ? unchanged(n.recorded) : { ...base, state: 'Pending', ready: false };
  if (!outcome.ok) {
    return {
      ...base,
      state: failedNodeState(n.recorded, outcome.stage),
      ready: false,
      problem: outcome.failure.message,
      ...(outcome.address ? { address: outcome.address } : {}),
    };
  }
  const member = swarm?.members.get(name);
  const tls = {
    certificateNotAfter: outcome.tls.notAfter,
    certificateSerial: outcome.tls.serial,
    tlsGeneration: outcome.tls.generation,
  };
  // Drained and not brought back: a rollout stopped at this node (now, or in an earlier reconcile).
  if (scope.rollout?.stoppedAt === name || member?.availability === 'drain') {
    const why =
      scope.failures.find((f) => f.phase === 'rollout' && f.node === name)?.message ??
      'drained by a rollout that stopped here';
    return {
      ...base,
      state: 'Draining',
      ready: false,
      address: outcome.address,
      ...tls,
      ...(member ? { swarmNodeID: member.id } : {}),
      problem: why,
    };
  }
  const ready = memberCountsReady(member, n.recorded);
  const problem = ready ? driftProblem(outcome) : member ? `swarm member is ${member.state}` : 'not a swarm member yet';
  return {
    ...base,
    state: ready ? 'Ready' : 'Running',
    ready,
    address: outcome.address,
    ...tls,
    ...(member ? { swarmNodeID: member.id } : {}),
    ...(problem ? { problem } : {}),
  };
}

/**
 * Whether the node's swarm member counts as ready. A new swarm leader marks every member `unknown` until
 * its next heartbeat (swarmkit's dispatcher does so on taking office), so a leader change, say when a
 * manager is demoted during a replacement, is no news about the node: one that was Ready stays Ready. A
 * member that stays silent turns `down` after the heartbeat grace period, and then it counts as not ready.
 */
export function memberCountsReady(member: Pick<SwarmNode, 'state'> | undefined, recorded?: BayNodeStatus): boolean {
  if (member?.state === 'ready') return true;
  return member?.state === 'unknown' && recorded?.state === 'Ready' && recorded.ready === true;
}

/**
 * A node that once ran never falls back to Provisioning: status is what tells the next reconcile to
 * replace it, not make it again, should its instance turn out to be gone.
 */
function failedNodeState(recorded: BayNodeStatus | undefined, stage: 'provision' | 'docker'): NodeFact['state'] {
  if (recorded?.state === 'Draining' || recorded?.state === 'Retiring') return recorded.state;
  return stage === 'provision' && !everRan(recorded) ? 'Provisioning' : 'Running';
}

/** Nodes confirmed gone stay visible (as Lost) until their swarm member has been removed. */
function lostFacts(scope: BayScope): NodeFact[] {
  return (scope.plan?.lost ?? [])
    .filter((l) => !scope.swarm || scope.swarm.members.has(l.name))
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

/** A recorded node kept as it is, when this reconcile did not get far enough to look at it. */
function unchanged(n: BayNodeStatus): NodeFact {
  return {
    ...(n.replaces ? { replaces: n.replaces } : {}),
    name: n.name,
    index: n.index,
    role: n.role,
    state: n.state ?? 'Pending',
    ready: n.ready ?? false,
    ...(n.aggregate ? { aggregate: n.aggregate } : {}),
    ...(n.host ? { host: n.host } : {}),
    ...(n.address ? { address: n.address } : {}),
    ...(n.swarmNodeID ? { swarmNodeID: n.swarmNodeID } : {}),
    ...(n.certificateNotAfter ? { certificateNotAfter: new Date(n.certificateNotAfter) } : {}),
    ...(n.certificateSerial ? { certificateSerial: n.certificateSerial } : {}),
    ...(n.tlsGeneration ? { tlsGeneration: n.tlsGeneration } : {}),
    ...(n.problem ? { problem: n.problem } : {}),
  };
}

/** What is rotating, what finished, and when the next certificate falls due. */
function rotationFacts(scope: BayScope): RotationFacts {
  const stopped = scope.failures.find((f) => f.phase === 'rollout' && f.kind === 'terminal');
  return {
    ...(scope.rotation ? { current: scope.rotation } : {}),
    ...(scope.swarmCaRotation ? { swarmCa: scope.swarmCaRotation } : {}),
    finished: scope.finished,
    ...(scope.rollout?.waiting ? { waiting: scope.rollout.waiting } : {}),
    ...(stopped ? { stopped } : {}),
    ...(scope.pki ? { nextRenewal: nextRenewalOf(scope) } : {}),
  };
}

/**
 * The earliest moment a certificate falls due: a leaf at expiry minus renewBefore, the CA while it can
 * still sign a full leaf. The reconcile is scheduled for it, so renewal never waits for a resync.
 */
export function nextRenewalOf(scope: BayScope): Date | undefined {
  const pki = scope.pki;
  if (!pki) return undefined;
  const leaves = [pki.operator.notAfter, ...(scope.credentials ? [scope.credentials.clientNotAfter] : [])];
  for (const o of scope.outcomes.values()) if (o.ok) leaves.push(o.tls.notAfter);
  const times = leaves.map((t) => renewalTimeOf({ notAfter: t }, pki.policy).getTime());
  times.push(pki.ca.notAfter.getTime() - pki.policy.validityMs - pki.policy.renewBeforeMs);
  return new Date(Math.min(...times));
}
