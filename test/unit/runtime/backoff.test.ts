import { describe, expect, it } from 'vitest';
import { JitteredBackoff, PerKeyBackoff, exponentialDelay } from '../../../src/runtime/backoff.js';

describe('exponential backoff', () => {
  const policy = { baseMs: 100, maxMs: 1_000 };

  it('doubles the delay per failure up to the maximum', () => {
    expect([0, 1, 2, 3, 4, 5].map((n) => exponentialDelay(policy, n))).toEqual([100, 200, 400, 800, 1_000, 1_000]);
  });

  it('stays at the maximum however many failures there were', () => {
    expect(exponentialDelay(policy, 10_000)).toBe(1_000);
  });
});

describe('jittered reconnect backoff', () => {
  const policy = { baseMs: 800, maxMs: 30_000 };

  it('draws each delay from the upper half of its exponential step', () => {
    const low = new JitteredBackoff(policy, () => 0);
    const high = new JitteredBackoff(policy, () => 1);
    expect([low.next(), low.next(), low.next()]).toEqual([400, 800, 1_600]);
    expect([high.next(), high.next(), high.next()]).toEqual([800, 1_600, 3_200]);
  });

  it('spreads replicas that fail at the same moment', () => {
    const delays = new Set(Array.from({ length: 20 }, () => new JitteredBackoff(policy).next()));
    expect(delays.size).toBeGreaterThan(10);
  });

  it('starts over after a reset', () => {
    const backoff = new JitteredBackoff(policy, () => 1);
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(800);
  });

  it('never exceeds the maximum', () => {
    const backoff = new JitteredBackoff(policy, () => 1);
    const delays = Array.from({ length: 30 }, () => backoff.next());
    expect(Math.max(...delays)).toBe(30_000);
  });
});

describe('per-key backoff', () => {
  it('counts failures per key and forgets a key on success', () => {
    const backoff = new PerKeyBackoff({ baseMs: 5, maxMs: 1_000 });
    expect([backoff.when('a'), backoff.when('a'), backoff.when('b'), backoff.when('a')]).toEqual([5, 10, 5, 20]);
    expect(backoff.retries('a')).toBe(3);
    backoff.forget('a');
    expect(backoff.retries('a')).toBe(0);
    expect(backoff.when('a')).toBe(5);
    expect(backoff.retries('b')).toBe(1);
  });
});
