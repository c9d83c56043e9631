import { InvalidDurationError } from './errors.js';
import { parseDuration } from './duration.js';

/**
 * When certificates are renewed. Pure functions of dates and durations (milliseconds), so the bay
 * controller can compute both "renew now?" and "requeue after how long?" from the same numbers.
 */

/** The CRD's default for `spec.tls.caOverlap`. */
export const DEFAULT_CA_OVERLAP = '24h';

/** The Bay's `spec.tls`, parsed. */
export interface TlsPolicy {
  /** Lifetime of an issued leaf certificate. */
  readonly validityMs: number;
  /** A leaf is renewed once it has less than this left. */
  readonly renewBeforeMs: number;
  /** During a CA rotation, how long the old CA stays trusted once every node serves the new one. */
  readonly caOverlapMs: number;
}

/**
 * Parses `{certificateValidity: '2160h', renewBefore: '720h'}`. renewBefore must be shorter than the
 * validity, or every freshly issued certificate would be due again at once (the CRD enforces the
 * same; this guards spec values that bypassed admission).
 */
export function parseTlsPolicy(spec: { readonly certificateValidity: string; readonly renewBefore: string; readonly caOverlap?: string }): TlsPolicy {
  const validityMs = parseDuration(spec.certificateValidity);
  const renewBeforeMs = parseDuration(spec.renewBefore);
  const caOverlapMs = parseDuration(spec.caOverlap ?? DEFAULT_CA_OVERLAP);
  if (validityMs <= 0) throw new InvalidDurationError(spec.certificateValidity, 'certificate validity must be positive');
  if (renewBeforeMs >= validityMs) {
    throw new InvalidDurationError(spec.renewBefore, `renewBefore must be shorter than the certificate validity ${spec.certificateValidity}`);
  }
  return { validityMs, renewBeforeMs, caOverlapMs };
}

/** The moment a certificate expiring at `notAfter` becomes due for renewal. */
export function renewalTime(notAfter: Date, renewBeforeMs: number): Date {
  return new Date(notAfter.getTime() - renewBeforeMs);
}

export function renewalDue(notAfter: Date, renewBeforeMs: number, now: Date): boolean {
  return now.getTime() >= renewalTime(notAfter, renewBeforeMs).getTime();
}

/** How long until renewal is due (0 when it already is): a reconcile's requeueAfter. */
export function timeUntilRenewal(notAfter: Date, renewBeforeMs: number, now: Date): number {
  return Math.max(0, renewalTime(notAfter, renewBeforeMs).getTime() - now.getTime());
}

/**
 * A CA is renewed while it can still sign a full-length leaf that is then renewed in time: once it
 * has less than validity + renewBefore left, leaves issued from it would be cut short at the CA's
 * expiry and fall due at once. Renewing then also leaves a whole leaf lifetime for the overlap in
 * which old and new CA are both trusted.
 */
export function caRenewalDue(caNotAfter: Date, policy: TlsPolicy, now: Date): boolean {
  return renewalDue(caNotAfter, policy.validityMs + policy.renewBeforeMs, now);
}
