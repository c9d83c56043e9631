import type { Bay, BayStatus } from '../../api/types.generated.js';
import { addFinalizer } from '../../runtime/finalizers.js';
import type { ReconcileContext, ReconcileRequest, ReconcileResult, Reconciler } from '../../runtime/reconcile.js';
import { patchStatus } from '../../runtime/status.js';
import { BAY } from '../kinds.js';
import { finalizeBay } from './deletion.js';
import type { BayControllerDeps } from './deps.js';
import { nextStep } from './error-policy.js';
import { factsOf } from './facts.js';
import { FINALIZER } from './names.js';
import { BAY_PHASES, runPhases } from './phases.js';
import { newScope, type BayScope } from './scope.js';
import { computeBayStatus } from './status.js';

export type { BayControllerDeps } from './deps.js';

/**
 * fetch → finalizer → (deleting? clean up) → phases → status → next step. The phases record facts;
 * status is computed from them in status.ts and written at the end whatever failed (Cluster API's
 * deferred patch); the error policy then decides between backoff, a terminal wait and a requeue.
 * Every phase is idempotent, so a crash at any line is repaired by the next reconcile: nodes are
 * found by their ownership on the hosts, the CA by its Secret.
 */
export function bayReconciler(deps: BayControllerDeps): Reconciler {
  return async (req: ReconcileRequest, ctx: ReconcileContext): Promise<ReconcileResult> => {
    const cached = deps.bays.store.get(req.key);
    if (!cached) return {};
    if (cached.metadata.deletionTimestamp) return finalizeBay(deps, cached, ctx);
    const bay = await withFinalizer(deps, cached);
    const scope = newScope(bay);
    await runPhases(BAY_PHASES, scope, deps, ctx);
    const status = computeBayStatus(scope.bay, factsOf(scope), new Date());
    const changed = await writeStatus(deps, scope, status, ctx);
    await recordFailures(deps, scope);
    await recordPhaseChange(deps, scope.bay, status);
    for (const f of scope.failures) deps.metrics?.reconcileError('bay', f.reason);
    // An idle bay's resync changes nothing: worth a debug line, not one per bay every few minutes.
    const level = changed || scope.failures.length > 0 ? 'info' : 'debug';
    ctx.log[level]({ phase: status.phase, readyNodes: status.readyNodes, failures: scope.failures.length, phaseMs: scope.durations }, 'bay reconciled');
    return nextStep(scope, status.phase === 'Ready' || status.phase === 'Rotating', deps.timing);
  };
}

async function withFinalizer(deps: BayControllerDeps, bay: Bay): Promise<Bay> {
  const patched = await addFinalizer(deps.client, BAY, bay, FINALIZER);
  if (patched !== bay) deps.bays.observeWrite(patched);
  return patched;
}

/** Writes status when it changed; says whether it did. */
async function writeStatus(deps: BayControllerDeps, scope: BayScope, status: BayStatus, ctx: ReconcileContext): Promise<boolean> {
  const started = performance.now();
  const written = await patchStatus(deps.client, BAY, scope.bay, status, ctx.signal);
  deps.bays.observeWrite(written);
  scope.durations.status = Math.round(performance.now() - started);
  return written !== undefined;
}

/** Each failure as a Warning Event; repeats within the recorder's window only raise its count. */
async function recordFailures(deps: BayControllerDeps, scope: BayScope): Promise<void> {
  for (const f of scope.failures) {
    await deps.events.record(scope.bay, { type: 'Warning', reason: f.reason, action: actionOf(f.phase), note: f.message });
  }
}

const actionOf = (phase: string): string => phase.charAt(0).toUpperCase() + phase.slice(1);

async function recordPhaseChange(deps: BayControllerDeps, bay: Bay, status: BayStatus): Promise<void> {
  const phase = status.phase;
  if (!phase || phase === bay.status?.phase) return;
  const warning = phase === 'Degraded' || phase === 'Failed';
  const message = status.conditions?.[0]?.message ?? '';
  await deps.events.record(bay, { type: warning ? 'Warning' : 'Normal', reason: `Bay${phase}`, action: 'Reconcile', note: message });
}
