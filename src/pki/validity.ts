import { InvalidIssueRequestError } from './errors.js';

/**
 * How far notBefore lies in the past. Nodes' clocks drift from the operator's; a certificate that is
 * "not yet valid" on a node would make dockerd or the client refuse it. docker-machine uses the same
 * five minutes.
 */
export const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

export interface ValidityWindow {
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/**
 * The validity of a new certificate: from `now` minus the skew allowance until `now + validityMs`,
 * cut at `notAfterLimit` (the issuing CA's expiry: a leaf that outlives its CA fails verification
 * from that day on anyway, and the shorter date lets the renewal policy see it).
 */
export function validityWindow(now: Date, validityMs: number, notAfterLimit?: Date): ValidityWindow {
  if (!Number.isFinite(validityMs) || validityMs <= 0) {
    throw new InvalidIssueRequestError(`certificate validity must be a positive duration, got ${validityMs} ms`);
  }
  const wanted = now.getTime() + validityMs;
  const notAfter = notAfterLimit === undefined ? wanted : Math.min(wanted, notAfterLimit.getTime());
  if (notAfter <= now.getTime()) {
    throw new InvalidIssueRequestError(`the issuing CA expired at ${notAfterLimit?.toISOString()}`);
  }
  return { notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS), notAfter: new Date(notAfter) };
}
