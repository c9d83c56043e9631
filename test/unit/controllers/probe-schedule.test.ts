import { describe, expect, it } from 'vitest';
import type { ProbedHost } from '../../../src/controllers/aggregate/probe.js';
import {
  isDue,
  MAX_PROBE_BACKOFF_MS,
  nextDueInMs,
  probeDelayMs,
  recordProbe,
  type HostProbeRecord,
} from '../../../src/controllers/aggregate/probe-schedule.js';

const INTERVAL = 5_000;
const ready: ProbedHost = { name: 'a', ready: true, reason: 'Ready' };
const missing: ProbedHost = { name: 'a', ready: false, reason: 'CredentialsMissing', message: 'no Secret' };
const unreachable: ProbedHost = { name: 'a', ready: false, reason: 'Unreachable', message: 'refused' };

/** Probes `results` in a row, each as soon as it is due; the times of the probes. */
function probeTimes(results: readonly ProbedHost[]): number[] {
  let record: HostProbeRecord | undefined;
  let now = 0;
  const times: number[] = [];
  for (const result of results) {
    if (record) now = record.at + probeDelayMs(INTERVAL, record.streak);
    expect(isDue(record, INTERVAL, now)).toBe(true);
    record = recordProbe(record, result, now);
    times.push(now);
  }
  return times;
}

describe('the probe schedule of a host', () => {
  it('a ready host is probed every interval', () => {
    expect(probeTimes([ready, ready, ready])).toEqual([0, 5_000, 10_000]);
  });

  it('a host with a fault only a person can cure is probed less and less often, up to five minutes apart', () => {
    expect(probeTimes([missing, missing, missing, missing])).toEqual([0, 10_000, 30_000, 70_000]);
    expect(probeDelayMs(INTERVAL, 30)).toBe(MAX_PROBE_BACKOFF_MS);
  });

  it('an unreachable host keeps the interval: when it comes back, bays hear of it soon', () => {
    expect(probeTimes([unreachable, unreachable, unreachable])).toEqual([0, 5_000, 10_000]);
  });

  it('the back-off ends with the fault', () => {
    expect(probeTimes([missing, missing, ready, ready])).toEqual([0, 10_000, 30_000, 35_000]);
  });

  it('an interval longer than the cap is kept as it is', () => {
    expect(probeDelayMs(10 * 60_000, 3)).toBe(10 * 60_000);
  });

  it('the next reconcile comes when the first host falls due', () => {
    const records = [recordProbe(undefined, ready, 1_000), recordProbe(undefined, missing, 0)];
    expect(nextDueInMs(records, INTERVAL, 2_000)).toBe(4_000);
    expect(nextDueInMs([], INTERVAL, 0)).toBe(INTERVAL);
    expect(isDue(records[0], INTERVAL, 5_999)).toBe(false);
  });
});
