import type {
  Bay,
  BayCertificatesStatus,
  BayNodeStatus,
  BayStatus,
  CertificateRotation,
  HandledRequests,
  SwarmCaRotation,
} from '../../api/types.generated.js';
import { formatTime, setCondition, type Condition, type ConditionUpdate } from '../../runtime/conditions.js';
import { describeUnschedulableForTenant, type Unschedulable } from '../../scheduler/index.js';
import type { NodeRole } from '../../scheduler/types.js';
import type { BayFailure } from './failures.js';
import { NEEDS_A_PERSON, REASONS, type Reason } from './reasons.js';
import { describeRotation } from './rotation.js';
import type { AutoscaleDecision } from './autoscale.js';
import type { SwarmNode, SwarmUsage } from '../../swarm/index.js';
import type { SwarmFacts } from './swarm.js';
import { UPGRADE_NODES_ANNOTATION, type Replacement } from './replacement.js';

/** What one reconcile learned about one node. */
export interface NodeFact {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly aggregate?: string;
  readonly host?: string;
  readonly state: NonNullable<BayNodeStatus['state']>;
  readonly address?: string;
  /** Runs, serves marina over TLS and is a ready swarm member. */
  readonly ready: boolean;
  readonly swarmNodeID?: string;
  readonly certificateNotAfter?: Date;
  readonly certificateSerial?: string;
  readonly tlsGeneration?: string;
  /** What is wrong with the node: why it is not ready, or how it drifted from its aggregate. */
  readonly problem?: string;
  /** Being replaced: it serves until its replacement is ready, but no longer counts as one of the bay's nodes. */
  readonly leaving?: boolean;
  /** The node this one replaces. */
  readonly replaces?: string;
}

/** Everything the phases recorded; status and conditions are computed from this in one place. */
export interface BayFacts {
  readonly certificates:
    | { readonly ok: true; readonly caNotAfter: Date; readonly operatorNotAfter: Date }
    | { readonly ok: false; readonly reason: Reason; readonly message: string };
  readonly rotation?: RotationFacts;
  /** Present while autoscaling is enabled and a manager answered. */
  readonly autoscale?: AutoscaleFacts;
  readonly desired: number;
  readonly nodes: readonly NodeFact[];
  readonly unschedulable: readonly Unschedulable[];
  /** No eligible host could ever take the flavor: growth waits for a person, not for room. */
  readonly fitsNowhere?: boolean;
  /** Wanted nodes the namespace's node quota held back, in words naming the quota. */
  readonly quotaHeld?: { readonly held: number; readonly message: string };
  /** Host key → why it could not be reached. */
  readonly unreachable: ReadonlyMap<string, string>;
  readonly swarm?: SwarmFacts;
  readonly swarmError?: string;
  /** Why the encrypted overlay network the bay asks for could not be made. */
  readonly overlayFailure?: BayFailure;
  /** The encrypted overlay network the swarm has (spec.network.encryptOverlay). */
  readonly encryptedOverlay?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly secretName: string; readonly clientNotAfter: Date };
  /** Failures of the nodes phase, terminal first: they name the reason NodesReady gives. */
  readonly nodeFailures?: readonly BayFailure[];
  /** Why the credentials bundle could not be published this time. */
  readonly credentialsFailure?: BayFailure;
  /** Nodes on an older image than their aggregate's alias names now → that alias. */
  readonly outdated?: ReadonlyMap<string, string>;
  /** The bay takes new node images by replacing its nodes (upgradePolicy Rolling or the annotation). */
  readonly upgradesNodes?: boolean;
  /** The node being replaced, and what that waits for (or that it was retired this time). */
  readonly replacement?: Replacement & { readonly waiting?: string; readonly retired?: boolean };
}

/** One usage reading and what autoscaling made of it. */
export interface AutoscaleFacts {
  readonly usage: SwarmUsage;
  readonly decision: AutoscaleDecision;
  readonly capacityNote?: string;
}

/** Rotations: in progress, finished this time, stopped; and when the next certificate falls due. */
export interface RotationFacts {
  readonly current?: CertificateRotation;
  readonly swarmCa?: SwarmCaRotation;
  readonly finished: readonly {
    readonly kind: 'Leaves' | 'CA' | 'SwarmCA';
    readonly handled?: Partial<HandledRequests>;
  }[];
  /** Why the rollout is not restarting a node right now. */
  readonly waiting?: string;
  /** The rollout failure that stopped it. */
  readonly stopped?: BayFailure;
  readonly nextRenewal?: Date;
}

export const CONDITION_TYPES = [
  'Ready',
  'CertificatesReady',
  'NodesReady',
  'SwarmReady',
  'Autoscaling',
  'Reconciling',
  'Stalled',
] as const;

type ConditionBody = Omit<ConditionUpdate, 'observedGeneration'>;

export function computeBayStatus(bay: Bay, facts: BayFacts, now: Date): BayStatus {
  const certificates = certificatesCondition(facts);
  const nodes = nodesCondition(facts);
  const swarm = swarmCondition(bay, facts);
  const ready = readyCondition(facts, [certificates, nodes, swarm]);
  const autoscaling = autoscaleCondition(bay, facts);
  const replacing = replacementCondition(bay, facts);
  const upToDate = upToDateCondition(bay, facts);
  const phase = phaseOf(bay, facts, ready.status === 'True');
  const progress = kstatusConditions(phase, ready);
  const nodeNotAfters = facts.nodes.flatMap((n) => (n.certificateNotAfter ? [n.certificateNotAfter.getTime()] : []));
  return {
    ...bay.status,
    ...generationOf(bay),
    phase,
    conditions: withConditions(
      bay,
      bay.status?.conditions,
      [ready, certificates, nodes, swarm, ...(autoscaling ? [autoscaling] : []), ...(replacing ? [replacing] : []), ...(upToDate ? [upToDate] : []), ...progress],
      now,
    ),
    nodes: facts.nodes.map(toNodeStatus),
    readyNodes: facts.nodes.filter((n) => n.ready).length,
    ...(facts.endpoint ? { endpoint: facts.endpoint } : {}),
    ...(facts.credentials ? { credentialsSecretName: facts.credentials.secretName } : {}),
    ...networkStatus(bay, facts),
    certificates: certificatesStatus(bay.status?.certificates, facts, nodeNotAfters, now),
    ...autoscaleStatus(bay, facts, now),
  };
}

function networkStatus(bay: Bay, facts: BayFacts): Pick<BayStatus, 'network'> {
  return facts.encryptedOverlay ? { network: { ...bay.status?.network, encryptedOverlay: facts.encryptedOverlay } } : {};
}

/**
 * kstatus' abnormal-true pair, so Flux, `kubectl wait` and kstatus-based tools judge a bay without
 * knowing it: `Stalled` when only a person can cure what stops it, `Reconciling` while marina is
 * still bringing it to its spec (provisioning, growing, rotating, repairing).
 */
function kstatusConditions(phase: NonNullable<BayStatus['phase']>, ready: ConditionBody): ConditionBody[] {
  const stalled = ready.status === 'False' && NEEDS_A_PERSON.has(ready.reason);
  const reconciling = !stalled && phase !== 'Ready';
  return [
    reconciling
      ? {
          type: 'Reconciling',
          status: 'True',
          reason: phase,
          message: ready.status === 'True' ? `${phase}: the bay serves meanwhile` : ready.message,
        }
      : {
          type: 'Reconciling',
          status: 'False',
          reason: REASONS.asExpected,
          message: stalled ? 'waiting for a person' : 'the bay matches its spec',
        },
    stalled
      ? { type: 'Stalled', status: 'True', reason: ready.reason, message: ready.message }
      : { type: 'Stalled', status: 'False', reason: REASONS.asExpected, message: 'nothing stops the bay' },
  ];
}

/** Usage figures (their time kept while they do not change) and a raised target; the target never falls. */
function autoscaleStatus(bay: Bay, facts: BayFacts, now: Date): Pick<BayStatus, 'usage' | 'autoscale'> {
  const a = facts.autoscale;
  if (!a) return {};
  const figures = {
    cpuPercent: Math.round(a.usage.cpuPercent),
    memoryPercent: Math.round(a.usage.memoryPercent),
    pendingTasks: a.usage.waitingForRoom.tasks,
    ...(a.capacityNote ? { capacityNote: a.capacityNote } : {}),
  };
  const { observedTime, ...before } = bay.status?.usage ?? {};
  const same = observedTime !== undefined && JSON.stringify(before) === JSON.stringify(figures);
  const usage = { ...figures, observedTime: same ? observedTime : formatTime(now) };
  if (a.decision.kind !== 'grow') return { usage };
  const target = Math.max(bay.status?.autoscale?.target ?? 0, a.decision.target);
  return { usage, autoscale: { target, lastScaleUpTime: formatTime(now), lastScaleUpReason: a.decision.reason } };
}

/**
 * Autoscaling, for a bay that has it on: True while it can do its work (steady, just grown, cooling
 * down); False with AutoscaleBlocked when it wants to grow and cannot — maxNodes reached, or the
 * aggregates have no room for the nodes it asked for.
 */
function autoscaleCondition(bay: Bay, facts: BayFacts): ConditionBody | undefined {
  if (!bay.spec.autoscale?.enabled) return undefined;
  const type = 'Autoscaling';
  const a = facts.autoscale;
  if (!a)
    return {
      type,
      status: 'Unknown',
      reason: REASONS.autoscaleWaiting,
      message: 'waiting for the swarm to read its reservations',
    };
  const grownBeyondRoom = (bay.status?.autoscale?.target ?? 0) > bay.spec.nodes && facts.unschedulable.length > 0;
  if (grownBeyondRoom) {
    return {
      type,
      status: 'False',
      reason: REASONS.autoscaleBlocked,
      message: `the aggregates have no room for the nodes autoscaling asked for: ${facts.unschedulable.map(describeUnschedulableForTenant).join('; ')}`,
    };
  }
  const d = a.decision;
  if (d.kind === 'blocked' && (d.reason === 'MaxNodesReached' || d.reason === 'QuotaReached'))
    return { type, status: 'False', reason: REASONS.autoscaleBlocked, message: d.message };
  if (d.kind === 'blocked') return { type, status: 'True', reason: REASONS.coolingDown, message: d.message };
  if (d.kind === 'grow') return { type, status: 'True', reason: REASONS.scaledUp, message: d.reason };
  const threshold = bay.spec.autoscale.thresholdPercent ?? 80;
  return {
    type,
    status: 'True',
    reason: REASONS.steady,
    message: `reserved CPU ${Math.round(a.usage.cpuPercent)}%, memory ${Math.round(a.usage.memoryPercent)}% (threshold ${threshold}%)`,
  };
}

/** Expiries, the rotation in progress, the requests handled and when each kind of rotation last finished. */
function certificatesStatus(
  before: BayCertificatesStatus | undefined,
  facts: BayFacts,
  nodeNotAfters: readonly number[],
  now: Date,
): BayCertificatesStatus {
  const { rotation: _r, swarmCaRotation: _s, ...kept } = before ?? {};
  const rotation = facts.rotation;
  const finished = rotation?.finished ?? [];
  const at = formatTime(now);
  const handled = finished.reduce<HandledRequests>(
    (all, f) => ({ ...all, ...f.handled }),
    before?.handledRequests ?? {},
  );
  const lastOf = (kind: 'Leaves' | 'CA' | 'SwarmCA') => finished.some((f) => f.kind === kind);
  return {
    ...kept,
    ...(facts.certificates.ok
      ? {
          caNotAfter: formatTime(facts.certificates.caNotAfter),
          operatorNotAfter: formatTime(facts.certificates.operatorNotAfter),
        }
      : {}),
    ...(facts.credentials ? { clientNotAfter: formatTime(facts.credentials.clientNotAfter) } : {}),
    ...(nodeNotAfters.length > 0 ? { earliestNodeNotAfter: formatTime(new Date(Math.min(...nodeNotAfters))) } : {}),
    ...(rotation?.nextRenewal ? { nextRenewalTime: formatTime(rotation.nextRenewal) } : {}),
    ...(finished.length > 0 ? { lastRotationTime: at } : {}),
    ...(lastOf('Leaves') ? { lastLeafRotationTime: at } : {}),
    ...(lastOf('CA') ? { lastCaRotationTime: at } : {}),
    ...(lastOf('SwarmCA') ? { lastSwarmCaRotationTime: at } : {}),
    ...(Object.keys(handled).length > 0 ? { handledRequests: handled } : {}),
    ...(rotation
      ? rotation.current
        ? { rotation: rotation.current }
        : {}
      : before?.rotation
        ? { rotation: before.rotation }
        : {}),
    ...(rotation
      ? rotation.swarmCa
        ? { swarmCaRotation: rotation.swarmCa }
        : {}
      : before?.swarmCaRotation
        ? { swarmCaRotation: before.swarmCaRotation }
        : {}),
  };
}

/** Conditions in their fixed order, each with the bay's generation; transition times kept unless status flips. */
function withConditions(
  bay: Bay,
  existing: Condition[] | undefined,
  updates: readonly ConditionBody[],
  now: Date,
): Condition[] {
  let conditions = existing;
  for (const c of updates) conditions = setCondition(conditions, { ...c, ...generationOf(bay) }, now);
  const ordered = CONDITION_TYPES.flatMap((t) => conditions!.filter((c) => c.type === t));
  return [...ordered, ...conditions!.filter((c) => !(CONDITION_TYPES as readonly string[]).includes(c.type))];
}

const generationOf = (bay: Bay): { observedGeneration?: number } =>
  bay.metadata.generation !== undefined ? { observedGeneration: bay.metadata.generation } : {};

function certificatesCondition(facts: BayFacts): ConditionBody {
  const type = 'CertificatesReady';
  if (!facts.certificates.ok)
    return { type, status: 'False', reason: facts.certificates.reason, message: facts.certificates.message };
  const rotation = facts.rotation;
  if (rotation?.stopped || rotation?.current?.stoppedTime) {
    const why =
      rotation.stopped?.message ?? rotation.current?.stoppedMessage ?? 'a node failed its check after a restart';
    return {
      type,
      status: 'False',
      reason: REASONS.rolloutFailed,
      message: `${why}; no other node is restarted until marina.dev/rotate-certificates gets a new value`,
    };
  }
  const rotating = [
    ...(rotation?.current
      ? [describeRotation(rotation.current) + (rotation.waiting ? ` (${rotation.waiting})` : '')]
      : []),
    ...(rotation?.swarmCa
      ? [`the swarm's CA is rotating (requested: ${rotation.swarmCa.request}) since ${rotation.swarmCa.startedTime}`]
      : []),
  ];
  if (rotating.length > 0) return { type, status: 'True', reason: REASONS.rotating, message: rotating.join('; ') };
  const next = rotation?.nextRenewal ? `; the next renewal is due at ${formatTime(rotation.nextRenewal)}` : '';
  return {
    type,
    status: 'True',
    reason: REASONS.issued,
    message: `the bay's CA is valid until ${formatTime(facts.certificates.caNotAfter)}${next}`,
  };
}

function nodesCondition(facts: BayFacts): ConditionBody {
  const type = 'NodesReady';
  // A node being replaced serves until its replacement is ready: the bay has as many ready nodes as it
  // declares throughout, and says so, while the replacement's own progress shows in NodesReplaced.
  const staying = facts.nodes.filter((n) => !n.leaving);
  const serving = facts.nodes.filter((n) => n.ready).length;
  if (facts.replacement && serving >= facts.desired && !staying.some((n) => n.state === 'Lost')) {
    const message = `${serving} of ${facts.desired} nodes ready; ${describeReplacement(facts.replacement)}`;
    return { type, status: 'True', reason: REASONS.allNodesReady, message };
  }
  const ready = staying.filter((n) => n.ready).length;
  const counted = `${ready} of ${facts.desired} nodes ready`;
  if (facts.quotaHeld) {
    return { type, status: 'False', reason: REASONS.quotaExceeded, message: `${counted}; ${facts.quotaHeld.message}` };
  }
  if (facts.unschedulable.length > 0) {
    const reason = facts.fitsNowhere ? REASONS.flavorTooLarge : REASONS.unschedulable;
    const hint = facts.fitsNowhere ? '; the flavor is larger than any eligible host, even empty' : '';
    return {
      type,
      status: 'False',
      reason,
      message: `${counted}${hint}; ${facts.unschedulable.map(describeUnschedulableForTenant).join('; ')}`,
    };
  }
  const unknown = facts.nodes.filter((n) => n.state === 'Lost' && n.problem);
  if (facts.unreachable.size > 0 && unknown.length > 0) {
    return {
      type,
      status: 'False',
      reason: REASONS.hostUnreachable,
      message: `${counted}; ${unknown.map((n) => `${n.name} on ${n.host}: ${n.problem}`).join('; ')}`,
    };
  }
  if (ready === facts.desired && staying.length === facts.desired)
    return { type, status: 'True', reason: REASONS.allNodesReady, message: counted };
  const failing = facts.nodes.filter((n) => !n.ready && n.problem);
  const details = failing.length > 0 ? `; ${failing.map((n) => `${n.name}: ${n.problem}`).join('; ')}` : '';
  const failure = facts.nodeFailures?.[0];
  if (failure) return { type, status: 'False', reason: failure.reason, message: `${counted}${details}` };
  if (failing.length > 0)
    return { type, status: 'False', reason: REASONS.nodeNotReady, message: `${counted}${details}` };
  return { type, status: 'False', reason: REASONS.provisioning, message: counted };
}

/** Progress of a node replacement in words: which node, why, and what it waits for. */
export function describeReplacement(r: NonNullable<BayFacts['replacement']>): string {
  if (r.retired) return `node ${r.node} was replaced (${r.why})`;
  return `replacing node ${r.node} (${r.why})${r.waiting ? `: ${r.waiting}` : ''}`;
}

/**
 * NodesReplaced, once a bay has had a node to replace: False while one is (Replacing, or
 * ReplacementPaused when its replacement fits on no host), True once none is left.
 */
function replacementCondition(bay: Bay, facts: BayFacts): ConditionBody | undefined {
  const type = 'NodesReplaced';
  const r = facts.replacement;
  if (!r) {
    const before = bay.status?.conditions?.find((c) => c.type === type);
    return before
      ? { type, status: 'True', reason: REASONS.allReplaced, message: 'no node waits to be replaced' }
      : undefined;
  }
  if (!r.retired && facts.unschedulable.length > 0) {
    const where = facts.unschedulable.map(describeUnschedulableForTenant).join('; ');
    return { type, status: 'False', reason: REASONS.replacementPaused, message: `${describeReplacement(r)}; paused: ${where}` };
  }
  return { type, status: 'False', reason: REASONS.replacing, message: describeReplacement(r) };
}

/**
 * NodesUpToDate, once some node runs an older image than its aggregate's alias names: UpgradeAvailable
 * for a bay that keeps its nodes (upgradePolicy Manual), Upgrading for one that replaces them; True once
 * every node runs the current image.
 */
function upToDateCondition(bay: Bay, facts: BayFacts): ConditionBody | undefined {
  const type = 'NodesUpToDate';
  const outdated = facts.outdated ?? new Map<string, string>();
  if (outdated.size === 0) {
    const before = bay.status?.conditions?.find((c) => c.type === type);
    if (!before || !facts.outdated) return undefined;
    return { type, status: 'True', reason: REASONS.upToDate, message: "every node runs its aggregate's image" };
  }
  const aliases = [...new Set(outdated.values())].join(', ');
  const count = `${outdated.size} node(s) run an older image than ${aliases}`;
  if (facts.upgradesNodes) {
    return { type, status: 'False', reason: REASONS.upgrading, message: `${count}; replacing them one at a time, a new node first` };
  }
  const how = `set spec.upgradePolicy: Rolling (or annotate ${UPGRADE_NODES_ANNOTATION}=true) to replace them one at a time`;
  return { type, status: 'False', reason: REASONS.upgradeAvailable, message: `${count}; ${how}` };
}

function swarmCondition(bay: Bay, facts: BayFacts): ConditionBody {
  const type = 'SwarmReady';
  if (facts.swarmError) return { type, status: 'False', reason: REASONS.swarmFailed, message: facts.swarmError };
  if (facts.overlayFailure) {
    const { reason, message } = facts.overlayFailure;
    return { type, status: 'False', reason, message: `the encrypted overlay network: ${message}` };
  }
  const swarm = facts.swarm;
  if (!swarm?.anchor)
    return {
      type,
      status: 'False',
      reason: REASONS.swarmForming,
      message: swarm?.error ?? 'waiting for a manager node',
    };
  // A member a new leader has not heard from yet is `unknown`; the node's fact says whether it still counts.
  const readyNodes = new Set(facts.nodes.filter((n) => n.ready).map((n) => n.name));
  const counts = (m: SwarmNode | undefined): boolean =>
    m?.state === 'ready' || (m?.state === 'unknown' && readyNodes.has(m.hostname));
  const members = [...swarm.members.values()].filter(counts);
  const managers = members.filter((m) => m.role === 'manager' && m.managerReachability === 'reachable').length;
  const summary = `${members.length} ready members, ${managers} reachable managers`;
  const missing = facts.nodes.filter((n) => !counts(swarm.members.get(n.name)));
  if (missing.length > 0 || managers < bay.spec.managers || members.length < facts.desired) {
    const waiting = missing.length > 0 ? `; waiting for ${missing.map((n) => n.name).join(', ')}` : '';
    return {
      type,
      status: 'False',
      reason: REASONS.swarmForming,
      message: `${summary} of ${facts.desired} nodes and ${bay.spec.managers} managers${waiting}`,
    };
  }
  return {
    type,
    status: 'True',
    reason: REASONS.swarmFormed,
    message: summary + (swarm.problems.length > 0 ? `; ${swarm.problems.join('; ')}` : ''),
  };
}

function readyCondition(facts: BayFacts, parts: readonly ConditionBody[]): ConditionBody {
  const failing = parts.find((c) => c.status !== 'True');
  if (failing) return { type: 'Ready', status: 'False', reason: failing.reason, message: failing.message };
  const failed = facts.credentialsFailure;
  if (failed)
    return {
      type: 'Ready',
      status: 'False',
      reason: failed.reason,
      message: `the credentials bundle could not be published: ${failed.message}`,
    };
  if (!facts.credentials || !facts.endpoint)
    return {
      type: 'Ready',
      status: 'False',
      reason: REASONS.credentialsPending,
      message: 'the credentials bundle is not published yet',
    };
  return {
    type: 'Ready',
    status: 'True',
    reason: REASONS.bayReady,
    message: `${facts.desired} nodes in a swarm at ${facts.endpoint}; credentials in Secret ${facts.credentials.secretName}`,
  };
}

/**
 * The status as soon as nodes are found lost, before their replacements are built: Degraded, with
 * NodesReady and Ready saying which nodes are gone. The full computation follows at the end of the
 * reconcile; this only makes the loss visible while the repair runs.
 */
export function recordLoss(bay: Bay, status: BayStatus, lost: readonly BayNodeStatus[], now: Date): BayStatus {
  if (lost.length === 0) return status;
  const message = `${lost.map((l) => `node ${l.name} is gone from host ${l.host ?? '?'}`).join('; ')}; replacing ${lost.length === 1 ? 'it' : 'them'}`;
  const loss = (type: string): ConditionBody => ({ type, status: 'False', reason: REASONS.nodeLost, message });
  return {
    ...status,
    phase: 'Degraded',
    conditions: withConditions(bay, status.conditions, [loss('Ready'), loss('NodesReady')], now),
  };
}

/**
 * A deleting bay: Deleting, and when nodes cannot be deleted yet, Ready says which and how to let the
 * deletion finish without them.
 */
export function deletionStatus(bay: Bay, left: readonly string[], releaseAnnotation: string, now: Date): BayStatus {
  const message =
    left.length > 0
      ? `waiting to delete ${left.join('; ')}. If those hosts are gone for good, annotate the bay with ${releaseAnnotation}=true to finish without them`
      : "deleting the bay's nodes and Secrets";
  const ready: ConditionBody = {
    type: 'Ready',
    status: 'False',
    reason: left.length > 0 ? REASONS.deletionBlocked : REASONS.deleting,
    message,
  };
  return { ...bay.status, phase: 'Deleting', conditions: withConditions(bay, bay.status?.conditions, [ready], now) };
}

function phaseOf(bay: Bay, facts: BayFacts, ready: boolean): NonNullable<BayStatus['phase']> {
  if (bay.metadata.deletionTimestamp) return 'Deleting';
  if (ready && facts.replacement) return 'Replacing';
  if (ready) return facts.rotation?.current || facts.rotation?.swarmCa ? 'Rotating' : 'Ready';
  // Until its first credentials are out, a bay is being provisioned, however far it got.
  if (!bay.status?.credentialsSecretName && !facts.credentials) return 'Provisioning';
  const troubled =
    facts.unreachable.size > 0 ||
    facts.nodes.some(
      (n) => n.state === 'Lost' || (!n.ready && n.problem && n.state !== 'Pending' && n.state !== 'Provisioning'),
    );
  if (troubled || facts.unschedulable.length > 0 || facts.quotaHeld) return 'Degraded';
  return 'Growing';
}

function toNodeStatus(n: NodeFact): BayNodeStatus {
  return {
    name: n.name,
    index: n.index,
    role: n.role,
    state: n.state,
    ready: n.ready,
    ...(n.aggregate ? { aggregate: n.aggregate } : {}),
    ...(n.host ? { host: n.host } : {}),
    ...(n.address ? { address: n.address } : {}),
    ...(n.swarmNodeID ? { swarmNodeID: n.swarmNodeID } : {}),
    ...(n.replaces ? { replaces: n.replaces } : {}),
    ...(n.certificateNotAfter ? { certificateNotAfter: formatTime(n.certificateNotAfter) } : {}),
    ...(n.certificateSerial ? { certificateSerial: n.certificateSerial } : {}),
    ...(n.tlsGeneration ? { tlsGeneration: n.tlsGeneration } : {}),
    ...(n.problem ? { problem: n.problem } : {}),
  };
}
