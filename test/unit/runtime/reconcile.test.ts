import { describe, expect, it } from 'vitest';
import { ApiError, TerminalError } from '../../../src/runtime/errors.js';
import { outcomeOfError, outcomeOfResult, resultLabel } from '../../../src/runtime/reconcile.js';

describe('the reconcile contract', () => {
  it('returning nothing is success', () => {
    expect(outcomeOfResult(undefined)).toEqual({ kind: 'success' });
    expect(outcomeOfResult({})).toEqual({ kind: 'success' });
  });

  it('returning requeueAfter schedules timed work', () => {
    expect(outcomeOfResult({ requeueAfter: 30_000 })).toEqual({ kind: 'requeueAfter', delayMs: 30_000 });
    expect(resultLabel(outcomeOfResult({ requeueAfter: 1 }))).toBe('requeue_after');
  });

  it('a thrown error is retried and counted as an error', () => {
    const outcome = outcomeOfError(new Error('host unreachable'));
    expect(outcome.kind).toBe('retry');
    expect(resultLabel(outcome)).toBe('error');
  });

  it('a conflict is retried like any other error', () => {
    expect(outcomeOfError(new ApiError(409, 'Conflict', 'the object has been modified', 'PUT', '/x')).kind).toBe('retry');
  });

  it('a TerminalError is terminal, not retried', () => {
    const outcome = outcomeOfError(new TerminalError('InvalidSpec', 'managers must be odd'));
    expect(outcome).toMatchObject({ kind: 'terminal', error: { reason: 'InvalidSpec' } });
    expect(resultLabel(outcome)).toBe('error');
  });

  it('NotFound ends the reconcile quietly as a success', () => {
    const outcome = outcomeOfError(new ApiError(404, 'NotFound', 'configmaps "x" not found', 'GET', '/x'));
    expect(outcome.kind).toBe('gone');
    expect(resultLabel(outcome)).toBe('success');
  });
});
