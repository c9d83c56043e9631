import { TerminalError } from '../../runtime/errors.js';
import type { ReconcileResult } from '../../runtime/reconcile.js';
import type { BayTiming } from './deps.js';
import { BayRetryError, type BayFailure } from './failures.js';
import { nextRenewalOf } from './facts.js';
import { liveNodes } from './phases.js';
import { rotationWakeAt } from './rotation.js';
import type { BayScope } from './scope.js';

/**
 * What the runtime does next with a reconciled bay (kube-rs' error_policy), decided in one place once
 * status is written:
 * - a transient failure → thrown: the runtime retries with per-key exponential backoff and counts it;
 * - a terminal failure and nothing else in progress → thrown as terminal: no retry until the bay or an
 *   aggregate changes (the condition says why);
 * - converged → the next check after the resync interval (a safety net; changes wake the bay sooner);
 * - still progressing (nodes booting, joining) → soon;
 * - waiting for room, or for a person after a terminal failure while other work goes on → slowly.
 */
export function nextStep(scope: BayScope, converged: boolean, timing: BayTiming, now = Date.now()): ReconcileResult {
  const transient = scope.failures.filter((f) => f.kind === 'transient');
  const terminal = scope.failures.filter((f) => f.kind === 'terminal');
  if (transient.length > 0) throw new BayRetryError(transient);
  if (terminal.length === 0 && (rotationMoving(scope) || scope.autoscale?.decision.kind === 'grow' || replacing(scope)))
    return { requeueAfter: timing.retryMs };
  const wake = { requeueAfter: untilNextWake(scope, timing, now) };
  if (converged) return wake;
  if (terminal.length > 0 && !progressing(scope)) throw terminalErrorOf(terminal);
  if (progressing(scope)) return { requeueAfter: timing.retryMs };
  return wake;
}

/** A node replacement that can move on (not paused for want of room for its replacement). */
function replacing(scope: BayScope): boolean {
  return scope.replacement !== undefined && (scope.scheduled?.unschedulable.length ?? 0) === 0;
}

/** A rotation with work to do now: nodes to restart, a step just taken, a swarm CA converging. */
function rotationMoving(scope: BayScope): boolean {
  const rotation = scope.rotation;
  if (rotation?.stoppedTime) return scope.swarmCaRotation !== undefined;
  const rolling = rotation !== undefined && rotation.step !== 'Overlap';
  return (
    rolling || (scope.rollout?.pending ?? 0) > 0 || scope.swarmCaRotation !== undefined || scope.finished.length > 0
  );
}

/**
 * The resync interval, or sooner when a certificate falls due or a CA overlap ends before it: renewal
 * never depends on a resync (at least a second, so a due certificate that cannot be renewed yet does
 * not spin).
 */
function untilNextWake(scope: BayScope, timing: BayTiming, now: number): number {
  const times = [nextRenewalOf(scope), rotationWakeAt(scope.rotation)].flatMap((t) => (t ? [t.getTime() - now] : []));
  // An autoscaled bay reads its reservations again each interval; other bays never.
  if (scope.bay.spec.autoscale?.enabled) times.push(timing.usageIntervalMs);
  return Math.max(1_000, Math.min(timing.resyncMs, ...times));
}

/** Work that finishes by itself: nodes that run but are not ready swarm members yet. */
function progressing(scope: BayScope): boolean {
  return liveNodes(scope).some((n) => scope.swarm?.members.get(n.name)?.state !== 'ready');
}

function terminalErrorOf(failures: readonly BayFailure[]): TerminalError {
  const first = failures[0]!;
  return new TerminalError(first.reason, failures.map((f) => f.message).join('; '));
}
