import type { Bay, BayNodeStatus } from '../../api/types.generated.js';
import { isNodeGone, type HostProvider } from '../../hosts/index.js';
import type { ReconcileContext } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import type { NodeRole } from '../../scheduler/types.js';
import {
  applyDockerdTls,
  bindNode,
  drainNode,
  listSwarmNodes,
  setAvailability,
  takeDownVerdict,
  waitForPlacedTasksRunning,
  type DockerClient,
  type SwarmNode,
} from '../../swarm/index.js';
import { BAY } from '../kinds.js';
import {
  ensureNodeLeaf,
  nodeLeafRenewalCause,
  presentedChain,
  tlsGeneration,
  trustedCaPems,
  type BayPki,
  type RenewalCause,
  type RenewalContext,
} from './certificates.js';
import type { BayControllerDeps } from './deps.js';
import { RolloutError } from './failures.js';
import { dockerTlsOf, type NodeOutcome, type NodeTls } from './nodes.js';

/**
 * The rolling restart that puts new TLS files into service: dockerd reads its certificates only when
 * it starts, and in swarm mode a restart stops the node's containers (live-restore is refused). So one
 * node at a time — workers first, then managers while raft keeps its quorum — is drained, given its
 * files, restarted, checked over TLS to serve the new certificate, and made active again once its
 * services run elsewhere. A node that fails a step stops the rollout; nothing restarts in a loop.
 */

/** Why a node is restarted: its certificate is renewed, its TLS files changed (CA rotation), or it needs repair. */
export type RolloutCause = RenewalCause | 'tls-changed' | 'repair';

export interface RolloutCandidate {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly address: string;
  readonly cause: RolloutCause;
  /** A previous reconcile drained it and did not finish (a crash, or a stopped rollout resumed). */
  readonly draining: boolean;
  /** The certificate it serves has expired: no manager may answer until it is renewed. */
  readonly expired?: boolean;
}

/** What one node of the bay looks like to the rollout. */
export interface RolloutInput {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly recorded: BayNodeStatus | undefined;
  readonly outcome: NodeOutcome | undefined;
  /** The swarm sees its member down although the instance runs: its dockerd died or hangs. */
  readonly memberDown: boolean;
}

/** Nodes whose dockerd must be restarted for TLS, in no particular order. */
export function rolloutCandidates(
  nodes: readonly RolloutInput[],
  pki: BayPki,
  storedLeaf: (index: number) => Parameters<typeof nodeLeafRenewalCause>[0],
  renewal: RenewalContext,
): RolloutCandidate[] {
  return nodes.flatMap((n): RolloutCandidate[] => {
    const { outcome } = n;
    const draining = n.recorded?.state === 'Draining';
    const base = { name: n.name, index: n.index, role: n.role, draining };
    if (outcome && !outcome.ok)
      return outcome.repair && outcome.address ? [{ ...base, address: outcome.address, cause: 'repair' as const }] : [];
    if (!outcome) return [];
    if (n.memberDown && n.recorded?.state === 'Ready') return [{ ...base, address: outcome.address, cause: 'repair' }];
    const leaf = storedLeaf(n.index);
    const renewalCause = nodeLeafRenewalCause(leaf, pki, outcome.address, renewal);
    const changed = leaf && tlsGeneration(pki, leaf.certPem) !== outcome.tls.generation ? 'tls-changed' : undefined;
    // A node left drained by an unfinished restart is taken through the whole procedure again.
    const cause: RolloutCause | undefined = renewalCause ?? changed ?? (draining ? 'tls-changed' : undefined);
    const expired = outcome.tls.notAfter.getTime() <= renewal.now.getTime();
    return cause ? [{ ...base, address: outcome.address, cause, ...(expired ? { expired } : {}) }] : [];
  });
}

export type RolloutChoice = { readonly next: RolloutCandidate } | { readonly wait: string };

/**
 * The next node to restart, or why to wait. A node left drained by an unfinished restart comes first.
 * Otherwise nothing starts while another member of the bay is not a ready, active swarm member (the
 * previous node still rejoining); then workers by index, then managers by index, each only when raft
 * keeps a quorum without it. A lone manager cannot keep quorum: it goes last, when it is all that is
 * left (the swarm API pauses while it restarts; running containers elsewhere keep serving).
 */
export function chooseNextNode(
  candidates: readonly RolloutCandidate[],
  members: readonly SwarmNode[],
  bayNodes: ReadonlySet<string>,
): RolloutChoice {
  const resumed = candidates.find((c) => c.draining);
  if (resumed) return { next: resumed };
  const repairing = new Set(candidates.filter((c) => c.cause === 'repair').map((c) => c.name));
  const unsettled = members.filter(
    (m) =>
      bayNodes.has(m.hostname) && !repairing.has(m.hostname) && (m.state !== 'ready' || m.availability !== 'active'),
  );
  if (unsettled.length > 0)
    return { wait: `waiting for ${unsettled.map((m) => m.hostname).join(', ')} to be a ready, active swarm member` };
  const byIndex = [...candidates].sort((a, b) => a.index - b.index);
  const member = (c: RolloutCandidate): SwarmNode | undefined => members.find((m) => m.hostname === c.name);
  // The swarm's view of a role wins; a node it does not list (no manager answers) goes by its plan.
  const isManager = (c: RolloutCandidate): boolean => (member(c)?.role ?? c.role) === 'manager';
  const worker = byIndex.find((c) => !isManager(c));
  if (worker) return { next: worker };
  for (const manager of byIndex) {
    const listed = member(manager);
    if (!listed) return { next: manager };
    const verdict = takeDownVerdict(members, listed.id);
    if (verdict === 'safe') return { next: manager };
    if (verdict === 'wait')
      return { wait: `waiting for the swarm's managers to be reachable before restarting ${manager.name}` };
    if (byIndex.length === 1) return { next: manager };
  }
  return { wait: 'waiting to restart the only manager last' };
}

/** What the rollout needs to restart one node. */
export interface RollTarget {
  readonly candidate: RolloutCandidate;
  readonly provider: HostProvider;
  /** A manager to drain and reactivate through; undefined only when no manager answers at all. */
  readonly managerAddress: string | undefined;
  /** Every node of the bay: after a restart (a manager's above all) each must be a ready member again. */
  readonly bayNodes: ReadonlySet<string>;
}

/**
 * Restarts one node with its TLS files: mark it Draining in status (so a crash resumes here), renew its
 * certificate if due, drain it, push the files, restart dockerd, check it serves the new certificate,
 * wait for it to rejoin, make it active and wait until the tasks placed meanwhile run. Returns what the
 * node now serves.
 */
export async function rollNode(
  deps: BayControllerDeps,
  bay: Bay,
  pki: BayPki,
  target: RollTarget,
  renewal: RenewalContext,
  ctx: ReconcileContext,
): Promise<{ bay: Bay; tls: NodeTls }> {
  const { candidate } = target;
  const written = await markDraining(deps, bay, candidate.name, ctx);
  const leaf = await ensureNodeLeaf(deps.secrets, written, pki, candidate, renewal, ctx.signal);
  const tls = dockerTlsOf(pki);
  const connect = (address: string): DockerClient => deps.docker(tls, address);
  const step = deps.timeouts.rolloutStepMs;
  const deadline = (): Date => new Date(Date.now() + step);
  const manager = target.managerAddress ? connect(target.managerAddress) : undefined;
  const memberId = manager ? await memberIdOf(manager, candidate.name) : undefined;
  if (manager && memberId) await attempt(candidate, 'drain', () => drainNode(manager, memberId, deadline()));
  const material = { caPems: trustedCaPems(pki), certPem: presentedChain(pki, leaf.certPem), keyPem: leaf.keyPem };
  await attempt(candidate, 'restart', () =>
    applyDockerdTls(
      bindNode(target.provider, candidate.name),
      connect(candidate.address),
      material,
      new Date(Date.now() + deps.timeouts.dockerMs),
    ),
  );
  const served = await attempt(candidate, 'check', () => deps.servedCertificate(tls, candidate.address));
  if (!sameSerial(served, leaf.serial))
    throw new RolloutError(
      candidate.name,
      'check',
      `it serves certificate ${served} after the restart, not the new ${leaf.serial}`,
    );
  if (manager && memberId) {
    await attempt(candidate, 'rejoin', async () => {
      await waitForReadyMembers(manager, candidate.name, target.bayNodes, deadline());
      await setAvailability(manager, memberId, 'active');
      await waitForPlacedTasksRunning(manager, deadline());
    });
  }
  return {
    bay: written,
    tls: { generation: tlsGeneration(pki, leaf.certPem), serial: leaf.serial, notAfter: leaf.notAfter },
  };
}

const sameSerial = (a: string, b: string): boolean =>
  a.replace(/^0+/, '').toLowerCase() === b.replace(/^0+/, '').toLowerCase();

/**
 * A failed step stops the rollout, except when the node's instance is gone: that is no failure of the
 * rollout but a lost node, which the next reconcile replaces.
 */
async function attempt<T>(candidate: RolloutCandidate, step: RolloutError['step'], work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (isNodeGone(err)) throw err;
    throw new RolloutError(candidate.name, step, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** The node's swarm member; a down duplicate left by an earlier re-join is not it. */
async function memberIdOf(manager: DockerClient, name: string): Promise<string | undefined> {
  const named = (await listSwarmNodes(manager)).filter((m) => m.hostname === name);
  return (named.find((m) => m.state !== 'down') ?? named[0])?.id;
}

/**
 * Polls the manager until the node is a ready member again (for a manager: reachable), and so is every
 * other node of the bay: a restarted manager sees the others as unknown until they report to it again.
 * The manager may be the restarted node itself, whose API answers before raft does: errors are retried.
 */
async function waitForReadyMembers(
  manager: DockerClient,
  name: string,
  bayNodes: ReadonlySet<string>,
  deadline: Date,
): Promise<void> {
  let last = 'not listed';
  for (;;) {
    try {
      const members = (await listSwarmNodes(manager)).filter((m) => bayNodes.has(m.hostname) && m.state !== 'down');
      const member = members.find((m) => m.hostname === name && m.state === 'ready');
      const waiting = members.filter((m) => m.state !== 'ready').map((m) => `${m.hostname} ${m.state}`);
      if (member && (member.role !== 'manager' || member.managerReachability === 'reachable') && waiting.length === 0)
        return;
      last = !member
        ? 'not ready'
        : waiting.length > 0
          ? waiting.join(', ')
          : `manager ${member.managerReachability ?? 'unknown'}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() >= deadline.getTime())
      throw new Error(`node ${name} did not rejoin the swarm by ${deadline.toISOString()} (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** The node's state in status becomes Draining before anything is done to it. */
const markDraining = (deps: BayControllerDeps, bay: Bay, name: string, ctx: ReconcileContext): Promise<Bay> =>
  markNodeState(deps, bay, name, 'Draining', ctx);

/**
 * Writes a node's state to status (not ready) before a procedure that a crash must resume acts on it:
 * the next reconcile reads it back and goes on where this one stopped.
 */
export async function markNodeState(
  deps: BayControllerDeps,
  bay: Bay,
  name: string,
  state: 'Draining' | 'Retiring',
  ctx: ReconcileContext,
): Promise<Bay> {
  const nodes = bay.status?.nodes ?? [];
  if (nodes.find((n) => n.name === name)?.state === state) return bay;
  const status = {
    ...bay.status,
    nodes: nodes.map((n) => (n.name === name ? { ...n, state, ready: false } : n)),
  };
  const written = await patchStatus(deps.client, BAY, bay, status, ctx.signal);
  deps.bays.observeWrite(written);
  return written ?? { ...bay, status };
}
