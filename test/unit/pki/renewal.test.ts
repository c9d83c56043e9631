import { describe, expect, it } from 'vitest';
import { caRenewalDue, parseTlsPolicy, renewalDue, renewalTime, timeUntilRenewal } from '../../../src/pki/index.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('leaf renewal policy', () => {
  const notAfter = new Date('2026-06-01T00:00:00Z');
  const renewBefore = 720 * HOUR; // 30 days

  it('is due once less than renewBefore is left', () => {
    expect(renewalTime(notAfter, renewBefore)).toEqual(new Date('2026-05-02T00:00:00Z'));
    expect(renewalDue(notAfter, renewBefore, new Date('2026-05-01T23:59:59Z'))).toBe(false);
    expect(renewalDue(notAfter, renewBefore, new Date('2026-05-02T00:00:00Z'))).toBe(true);
    expect(renewalDue(notAfter, renewBefore, new Date('2026-07-01T00:00:00Z'))).toBe(true);
  });

  it('says how long to wait before the next check', () => {
    expect(timeUntilRenewal(notAfter, renewBefore, new Date('2026-05-01T00:00:00Z'))).toBe(DAY);
    expect(timeUntilRenewal(notAfter, renewBefore, new Date('2026-05-03T00:00:00Z'))).toBe(0);
  });
});

describe("the bay's tls settings", () => {
  it('reads the defaults (90 days, renewed 30 days before expiry)', () => {
    expect(parseTlsPolicy({ certificateValidity: '2160h', renewBefore: '720h' })).toEqual({ validityMs: 90 * DAY, renewBeforeMs: 30 * DAY, caOverlapMs: DAY });
  });

  it('refuses a renewBefore that is not shorter than the validity: every new certificate would be due at once', () => {
    expect(() => parseTlsPolicy({ certificateValidity: '720h', renewBefore: '720h' })).toThrow(/shorter than the certificate validity/);
  });

  it('refuses a zero validity', () => {
    expect(() => parseTlsPolicy({ certificateValidity: '0', renewBefore: '0' })).toThrow(/positive/);
  });
});

describe('CA renewal policy', () => {
  const policy = { validityMs: 90 * DAY, renewBeforeMs: 30 * DAY, caOverlapMs: DAY };
  const caNotAfter = new Date('2029-01-01T00:00:00Z');

  it('is due while the CA can still sign a full-length leaf that is renewed in time', () => {
    const lastCalmDay = new Date(caNotAfter.getTime() - 120 * DAY - 1);
    expect(caRenewalDue(caNotAfter, policy, lastCalmDay)).toBe(false);
    expect(caRenewalDue(caNotAfter, policy, new Date(caNotAfter.getTime() - 120 * DAY))).toBe(true);
  });
});
