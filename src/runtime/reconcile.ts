import type { Logger } from 'pino';
import { TerminalError, isNotFound } from './errors.js';

/** Which object to reconcile. The reconciler reads its current state from the cache. */
export interface ReconcileRequest {
  /** `namespace/name`, or `name` for cluster-scoped kinds. */
  readonly key: string;
  readonly namespace?: string;
  readonly name: string;
}

export interface ReconcileContext {
  /** Carries `controller`, `reconcileID`, `namespace` and `name`. */
  readonly log: Logger;
  readonly reconcileId: string;
  /** Aborted when the controller must stop at once (leadership lost, or the drain timed out). */
  readonly signal: AbortSignal;
}

export interface ReconcileResult {
  /** Reconcile this key again after this many milliseconds (timed work such as certificate renewal). */
  readonly requeueAfter?: number;
}

/**
 * The reconcile contract: return for success, `{ requeueAfter }` for timed work; throw to be retried
 * with per-key backoff; throw a TerminalError for a failure that retrying cannot fix; an ApiError 404
 * means the object is gone and ends the reconcile quietly.
 */
export type Reconciler = (req: ReconcileRequest, ctx: ReconcileContext) => Promise<ReconcileResult | void>;

export type ReconcileOutcome =
  | { readonly kind: 'success' }
  | { readonly kind: 'requeueAfter'; readonly delayMs: number }
  | { readonly kind: 'gone' }
  | { readonly kind: 'terminal'; readonly error: TerminalError }
  | { readonly kind: 'retry'; readonly error: unknown };

export function outcomeOfResult(result: ReconcileResult | void): ReconcileOutcome {
  const delayMs = result?.requeueAfter;
  return delayMs !== undefined && delayMs > 0 ? { kind: 'requeueAfter', delayMs } : { kind: 'success' };
}

export function outcomeOfError(error: unknown): ReconcileOutcome {
  if (error instanceof TerminalError) return { kind: 'terminal', error };
  if (isNotFound(error)) return { kind: 'gone' };
  return { kind: 'retry', error };
}

/** The `result` label of controller_runtime_reconcile_total, as controller-runtime spells it. */
export type ResultLabel = 'success' | 'error' | 'requeue_after';

export function resultLabel(outcome: ReconcileOutcome): ResultLabel {
  switch (outcome.kind) {
    case 'success':
    case 'gone':
      return 'success';
    case 'requeueAfter':
      return 'requeue_after';
    case 'terminal':
    case 'retry':
      return 'error';
  }
}
