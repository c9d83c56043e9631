import type { Bay, BayNodeStatus, BayStatus } from '../../api/types.generated.js';
import { formatTime, setCondition, type Condition, type ConditionUpdate } from '../../runtime/conditions.js';
import { describeUnschedulable, type Unschedulable } from '../../scheduler/index.js';
import type { NodeRole } from '../../scheduler/types.js';
import type { SwarmFacts } from './swarm.js';

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
  /** Why the node is not ready, for the NodesReady message. */
  readonly problem?: string;
}

/** Everything the phases recorded; status and conditions are computed from this in one place. */
export interface BayFacts {
  readonly certificates: { readonly ok: true; readonly caNotAfter: Date } | { readonly ok: false; readonly message: string };
  readonly desired: number;
  readonly nodes: readonly NodeFact[];
  readonly unschedulable: readonly Unschedulable[];
  /** Host key → why it could not be reached. */
  readonly unreachable: ReadonlyMap<string, string>;
  readonly swarm?: SwarmFacts;
  readonly swarmError?: string;
  readonly endpoint?: string;
  readonly credentials?: { readonly secretName: string; readonly clientNotAfter: Date };
}

export const CONDITION_TYPES = ['Ready', 'CertificatesReady', 'NodesReady', 'SwarmReady'] as const;

export function computeBayStatus(bay: Bay, facts: BayFacts, now: Date): BayStatus {
  const generation = bay.metadata.generation;
  const withGeneration = (c: Omit<ConditionUpdate, 'observedGeneration'>): ConditionUpdate => ({ ...c, ...(generation !== undefined ? { observedGeneration: generation } : {}) });
  const certificates = certificatesCondition(facts);
  const nodes = nodesCondition(facts);
  const swarm = swarmCondition(bay, facts);
  const ready = readyCondition(facts, [certificates, nodes, swarm]);
  let conditions: Condition[] | undefined = bay.status?.conditions;
  for (const c of [ready, certificates, nodes, swarm]) conditions = setCondition(conditions, withGeneration(c), now);
  const ordered = CONDITION_TYPES.map((t) => conditions!.find((c) => c.type === t)!);

  const nodeNotAfters = facts.nodes.flatMap((n) => (n.certificateNotAfter ? [n.certificateNotAfter.getTime()] : []));
  return {
    ...bay.status,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    phase: phaseOf(bay, facts, ready.status === 'True'),
    conditions: ordered,
    nodes: facts.nodes.map(toNodeStatus),
    readyNodes: facts.nodes.filter((n) => n.ready).length,
    ...(facts.endpoint ? { endpoint: facts.endpoint } : {}),
    ...(facts.credentials ? { credentialsSecretName: facts.credentials.secretName } : {}),
    certificates: {
      ...bay.status?.certificates,
      ...(facts.certificates.ok ? { caNotAfter: formatTime(facts.certificates.caNotAfter) } : {}),
      ...(facts.credentials ? { clientNotAfter: formatTime(facts.credentials.clientNotAfter) } : {}),
      ...(nodeNotAfters.length > 0 ? { earliestNodeNotAfter: formatTime(new Date(Math.min(...nodeNotAfters))) } : {}),
    },
  };
}

type ConditionBody = Omit<ConditionUpdate, 'observedGeneration'>;

function certificatesCondition(facts: BayFacts): ConditionBody {
  return facts.certificates.ok
    ? { type: 'CertificatesReady', status: 'True', reason: 'Issued', message: `the bay's CA is valid until ${formatTime(facts.certificates.caNotAfter)}` }
    : { type: 'CertificatesReady', status: 'False', reason: 'CertificatesFailed', message: facts.certificates.message };
}

function nodesCondition(facts: BayFacts): ConditionBody {
  const ready = facts.nodes.filter((n) => n.ready).length;
  const counted = `${ready} of ${facts.desired} nodes ready`;
  const type = 'NodesReady';
  if (facts.unschedulable.length > 0) return { type, status: 'False', reason: 'Unschedulable', message: `${counted}; ${facts.unschedulable.map(describeUnschedulable).join('; ')}` };
  const unknown = facts.nodes.filter((n) => n.state === 'Lost' && n.problem);
  if (facts.unreachable.size > 0 && unknown.length > 0) {
    return { type, status: 'False', reason: 'HostUnreachable', message: `${counted}; ${unknown.map((n) => `${n.name} on ${n.host}: ${n.problem}`).join('; ')}` };
  }
  const failing = facts.nodes.filter((n) => !n.ready && n.problem);
  if (ready === facts.desired && facts.nodes.length === facts.desired) return { type, status: 'True', reason: 'AllNodesReady', message: counted };
  if (failing.length > 0) return { type, status: 'False', reason: 'NodeNotReady', message: `${counted}; ${failing.map((n) => `${n.name}: ${n.problem}`).join('; ')}` };
  return { type, status: 'False', reason: 'Provisioning', message: counted };
}

function swarmCondition(bay: Bay, facts: BayFacts): ConditionBody {
  const type = 'SwarmReady';
  if (facts.swarmError) return { type, status: 'False', reason: 'SwarmFailed', message: facts.swarmError };
  const swarm = facts.swarm;
  if (!swarm?.anchor) return { type, status: 'False', reason: 'SwarmForming', message: swarm?.error ?? 'waiting for a manager node' };
  const members = [...swarm.members.values()].filter((m) => m.state === 'ready');
  const managers = members.filter((m) => m.role === 'manager' && m.managerReachability === 'reachable').length;
  const summary = `${members.length} ready members, ${managers} reachable managers`;
  const missing = facts.nodes.filter((n) => !swarm.members.get(n.name) || swarm.members.get(n.name)!.state !== 'ready');
  if (missing.length > 0 || managers < bay.spec.managers || members.length < facts.desired) {
    const waiting = missing.length > 0 ? `; waiting for ${missing.map((n) => n.name).join(', ')}` : '';
    return { type, status: 'False', reason: 'SwarmForming', message: `${summary} of ${facts.desired} nodes and ${bay.spec.managers} managers${waiting}` };
  }
  return { type, status: 'True', reason: 'SwarmFormed', message: summary + (swarm.problems.length > 0 ? `; ${swarm.problems.join('; ')}` : '') };
}

function readyCondition(facts: BayFacts, parts: readonly ConditionBody[]): ConditionBody {
  const failing = parts.find((c) => c.status !== 'True');
  if (failing) return { type: 'Ready', status: 'False', reason: failing.reason, message: failing.message };
  if (!facts.credentials || !facts.endpoint) return { type: 'Ready', status: 'False', reason: 'CredentialsPending', message: 'the credentials bundle is not published yet' };
  return { type: 'Ready', status: 'True', reason: 'BayReady', message: `${facts.desired} nodes in a swarm at ${facts.endpoint}; credentials in Secret ${facts.credentials.secretName}` };
}

/**
 * The status as soon as nodes are found lost, before their replacements are built: Degraded, with
 * NodesReady and Ready saying which nodes are gone. The full computation follows at the end of the
 * reconcile; this only makes the loss visible while the repair runs.
 */
export function recordLoss(bay: Bay, status: BayStatus, lost: readonly BayNodeStatus[], now: Date): BayStatus {
  if (lost.length === 0) return status;
  const generation = bay.metadata.generation;
  const message = `${lost.map((l) => `node ${l.name} is gone from host ${l.host ?? '?'}`).join('; ')}; replacing ${lost.length === 1 ? 'it' : 'them'}`;
  let conditions = status.conditions;
  for (const type of ['Ready', 'NodesReady']) {
    conditions = setCondition(conditions, { type, status: 'False', reason: 'NodeLost', message, ...(generation !== undefined ? { observedGeneration: generation } : {}) }, now);
  }
  return { ...status, phase: 'Degraded', conditions };
}

function phaseOf(bay: Bay, facts: BayFacts, ready: boolean): NonNullable<BayStatus['phase']> {
  if (bay.metadata.deletionTimestamp) return 'Deleting';
  if (ready) return 'Ready';
  if (!bay.status?.endpoint && !facts.endpoint) return 'Provisioning';
  const troubled = facts.unreachable.size > 0 || facts.nodes.some((n) => n.state === 'Lost' || (n.problem && n.state !== 'Pending' && n.state !== 'Provisioning'));
  if (troubled || facts.unschedulable.length > 0) return 'Degraded';
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
    ...(n.certificateNotAfter ? { certificateNotAfter: formatTime(n.certificateNotAfter) } : {}),
  };
}
