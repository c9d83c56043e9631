import { describe, expect, it } from 'vitest';
import { findCondition, formatTime, isTrue, setCondition, type Condition } from '../../../src/runtime/conditions.js';

const t0 = new Date('2026-01-02T03:04:05.678Z');
const t1 = new Date('2026-01-02T04:00:00.000Z');
const ready = { type: 'Ready', status: 'False', reason: 'Provisioning', message: 'creating nodes', observedGeneration: 1 } as const;

describe('conditions', () => {
  it('a new condition is appended with the current time, in whole seconds', () => {
    const list = setCondition(undefined, ready, t0);
    expect(list).toEqual([{ ...ready, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('lastTransitionTime moves when the status flips', () => {
    const before = setCondition(undefined, ready, t0);
    const after = setCondition(before, { ...ready, status: 'True', reason: 'Ready', message: '' }, t1);
    expect(findCondition(after, 'Ready')?.lastTransitionTime).toBe('2026-01-02T04:00:00Z');
  });

  it('lastTransitionTime stays when only reason, message or observedGeneration change', () => {
    const before = setCondition(undefined, ready, t0);
    const after = setCondition(before, { ...ready, reason: 'Joining', message: 'joining swarm', observedGeneration: 2 }, t1);
    expect(after).toEqual([{ ...ready, reason: 'Joining', message: 'joining swarm', observedGeneration: 2, lastTransitionTime: '2026-01-02T03:04:05Z' }]);
  });

  it('setting the same condition again changes nothing, so no status write follows', () => {
    const before = setCondition(undefined, ready, t0);
    expect(setCondition(before, ready, t1)).toEqual(before);
  });

  it('a condition is replaced in place and the others are left alone', () => {
    let list: Condition[] = [];
    list = setCondition(list, ready, t0);
    list = setCondition(list, { type: 'Degraded', status: 'False', reason: 'AsExpected', message: '' }, t0);
    list = setCondition(list, { ...ready, status: 'True', reason: 'Ready' }, t1);
    expect(list.map((c) => [c.type, c.status])).toEqual([
      ['Ready', 'True'],
      ['Degraded', 'False'],
    ]);
  });

  it('does not modify the list it was given', () => {
    const before = setCondition(undefined, ready, t0);
    const snapshot = structuredClone(before);
    setCondition(before, { ...ready, status: 'True' }, t1);
    expect(before).toEqual(snapshot);
  });

  it('isTrue is true only for a condition whose status is True', () => {
    const list = setCondition(setCondition(undefined, ready, t0), { type: 'Synced', status: 'True', reason: 'Done', message: '' }, t0);
    expect(isTrue(list, 'Synced')).toBe(true);
    expect(isTrue(list, 'Ready')).toBe(false);
    expect(isTrue(list, 'Missing')).toBe(false);
    expect(isTrue(undefined, 'Ready')).toBe(false);
  });

  it('formats metav1.Time in UTC without fractions', () => {
    expect(formatTime(new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 999)))).toBe('2026-01-02T03:04:05Z');
  });
});
