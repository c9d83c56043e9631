import { describe, expect, it } from 'vitest';
import { claimLease, releasedLease, type LeaseSpec } from '../../../src/runtime/lease.js';
import { formatMicroTime } from '../../../src/runtime/micro-time.js';

const T0 = Date.UTC(2026, 0, 2, 3, 4, 5, 123);
const claim = (identity: string, now: number, observedAt = now) => ({ identity, leaseDurationSeconds: 15, now, observedAt });

describe('MicroTime', () => {
  it('has exactly six fractional digits', () => {
    expect(formatMicroTime(T0)).toBe('2026-01-02T03:04:05.123000Z');
    expect(formatMicroTime(T0 + 0.456)).toBe('2026-01-02T03:04:05.123456Z');
    expect(formatMicroTime(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02T03:04:05.000000Z');
  });

  it('carries a microsecond rounding into the next millisecond', () => {
    expect(formatMicroTime(T0 + 0.9999)).toBe('2026-01-02T03:04:05.124000Z');
  });
});

describe('claiming a lease', () => {
  const heldByA: LeaseSpec = {
    holderIdentity: 'a',
    leaseDurationSeconds: 15,
    acquireTime: formatMicroTime(T0),
    renewTime: formatMicroTime(T0),
    leaseTransitions: 3,
  };

  it('the first candidate creates the lease with no transitions yet', () => {
    expect(claimLease(undefined, claim('a', T0))).toEqual({
      holderIdentity: 'a',
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-02T03:04:05.123000Z',
      renewTime: '2026-01-02T03:04:05.123000Z',
      leaseTransitions: 0,
    });
  });

  it('the holder renews: renewTime moves, acquireTime and transitions stay', () => {
    const renewed = claimLease(heldByA, claim('a', T0 + 2_000));
    expect(renewed).toMatchObject({ holderIdentity: 'a', acquireTime: heldByA.acquireTime, leaseTransitions: 3 });
    expect(renewed?.renewTime).toBe('2026-01-02T03:04:07.123000Z');
  });

  it('another candidate waits while the lease is valid, counted from when it saw the last change', () => {
    expect(claimLease(heldByA, claim('b', T0 + 14_999, T0))).toBeUndefined();
  });

  it('another candidate takes an expired lease and counts a transition', () => {
    const taken = claimLease(heldByA, claim('b', T0 + 15_001, T0));
    expect(taken).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4, acquireTime: '2026-01-02T03:04:20.124000Z' });
  });

  it("expiry follows the holder's declared duration, not the candidate's own", () => {
    const longLease = { ...heldByA, leaseDurationSeconds: 60 };
    expect(claimLease(longLease, claim('b', T0 + 30_000, T0))).toBeUndefined();
  });

  it('a released lease is free at once', () => {
    const released = releasedLease(heldByA, T0 + 1_000);
    expect(released).toEqual({
      leaseDurationSeconds: 1,
      acquireTime: '2026-01-02T03:04:06.123000Z',
      renewTime: '2026-01-02T03:04:06.123000Z',
      leaseTransitions: 3,
    });
    expect(claimLease(released, claim('b', T0 + 1_001))).toMatchObject({ holderIdentity: 'b', leaseTransitions: 4 });
  });
});
