import type { ProbedHost } from './probe.js';

/**
 * When each host of an aggregate is probed next. A host that answers, or may answer again by itself
 * (unreachable, a failed call), is probed every interval: when it comes back, bays hear of it soon. A
 * host whose fault only a person can cure (missing credentials, a certificate it does not trust, no
 * node image) is asked again less and less often, up to five minutes apart: the same question would
 * only fetch the same error. New inputs (the aggregate's spec, its credentials Secrets) reset it all.
 */
export const MAX_PROBE_BACKOFF_MS = 5 * 60_000;

const NEEDS_A_PERSON: ReadonlySet<string> = new Set([
  'CredentialsMissing',
  'CredentialsInvalid',
  'CredentialsNotAllowed',
  'Untrusted',
  'TlsFailure',
  'ImageMissing',
  'BridgeMissing',
]);

/** A host's last probe: what it found, when, and how many probes in a row found a fault for a person. */
export interface HostProbeRecord {
  readonly result: ProbedHost;
  readonly at: number;
  readonly streak: number;
}

/** The wait after a probe: the interval, doubled for each probe in a row that found a person's fault. */
export function probeDelayMs(intervalMs: number, streak: number): number {
  if (streak === 0) return intervalMs;
  return Math.max(intervalMs, Math.min(intervalMs * 2 ** streak, MAX_PROBE_BACKOFF_MS));
}

export function recordProbe(previous: HostProbeRecord | undefined, result: ProbedHost, at: number): HostProbeRecord {
  const needsAPerson = !result.ready && NEEDS_A_PERSON.has(result.reason ?? '');
  return { result, at, streak: needsAPerson ? (previous?.streak ?? 0) + 1 : 0 };
}

/** Whether the host is due now: never probed under these inputs, or its wait is over. */
export function isDue(record: HostProbeRecord | undefined, intervalMs: number, now: number): boolean {
  return record === undefined || record.at + probeDelayMs(intervalMs, record.streak) <= now;
}

/** Milliseconds until the first of `records` falls due (at least 1). */
export function nextDueInMs(records: Iterable<HostProbeRecord>, intervalMs: number, now: number): number {
  let soonest = Infinity;
  for (const r of records) soonest = Math.min(soonest, r.at + probeDelayMs(intervalMs, r.streak) - now);
  return Number.isFinite(soonest) ? Math.max(1, soonest) : intervalMs;
}
