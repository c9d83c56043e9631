import { describe, expect, it } from 'vitest';
import type { Bay, CertificateRotation } from '../../../src/api/types.generated.js';
import { issueTimeOf, leafRenewalCause, type StoredLeaf } from '../../../src/controllers/bay/certificates.js';
import { nextRotationStep, pendingRequest, reissueIssuedBefore, rotationAtStart, rotationWakeAt } from '../../../src/controllers/bay/rotation.js';
import { createCertificateAuthority, issueClientCertificate, parseTlsPolicy, type CertificateAuthority } from '../../../src/pki/index.js';
import { testBay } from '../../support/builders.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy = parseTlsPolicy({ certificateValidity: '2160h', renewBefore: '720h', caOverlap: '24h' });
const t0 = new Date('2027-01-01T00:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

function withAnnotations(bay: Bay, annotations: Record<string, string>, handled: Record<string, string> = {}, rotation?: CertificateRotation): Bay {
  return {
    ...bay,
    metadata: { ...bay.metadata, annotations },
    status: { ...bay.status, certificates: { handledRequests: handled, ...(rotation ? { rotation } : {}) } },
  };
}

describe('the renewal policy (fake clock)', () => {
  let ca: CertificateAuthority;
  let leaf: StoredLeaf;

  it('a leaf issued now is kept until renewBefore of its expiry, then due; a requested rotation re-issues older leaves only', async () => {
    ca = await createCertificateAuthority({ commonName: 'unit CA', now: t0 });
    leaf = await issueClientCertificate(ca, { identity: 'x', validityMs: policy.validityMs, now: t0 });
    expect(leafRenewalCause(leaf, ca, policy, { now: at(0) })).toBeUndefined();
    expect(leafRenewalCause(leaf, ca, policy, { now: at(60 * DAY - 1_000) })).toBeUndefined();
    expect(leafRenewalCause(leaf, ca, policy, { now: at(60 * DAY) })).toBe('expiring');
    expect(leafRenewalCause(leaf, ca, policy, { now: at(DAY), reissueIssuedBefore: at(HOUR) })).toBe('requested');
    expect(leafRenewalCause(leaf, ca, policy, { now: at(DAY), reissueIssuedBefore: at(0) })).toBeUndefined();
    // Issued for a rotation that starts a moment later (the next whole second): stamped with its start.
    const forRotation = await issueClientCertificate(ca, { identity: 'x', validityMs: policy.validityMs, now: issueTimeOf({ now: at(200), reissueIssuedBefore: at(1_000) }) });
    expect(leafRenewalCause(forRotation, ca, policy, { now: at(500), reissueIssuedBefore: at(1_000) })).toBeUndefined();
  });

  it('a leaf of another CA is re-issued (a CA rotation)', async () => {
    const other = await createCertificateAuthority({ commonName: 'unit CA', organization: 'rotated', now: t0 });
    expect(leafRenewalCause(leaf, other, policy, { now: at(0) })).toBe('new-ca');
  });
});

describe('rotation requests', () => {
  const bay = testBay();

  it('an annotation value already handled asks for nothing; a new value does', () => {
    expect(pendingRequest(withAnnotations(bay, { 'marina.dev/rotate-certificates': 'a' }, { rotateCertificates: 'a' }), 'rotateCertificates')).toBeUndefined();
    expect(pendingRequest(withAnnotations(bay, { 'marina.dev/rotate-certificates': 'b' }, { rotateCertificates: 'a' }), 'rotateCertificates')).toBe('b');
    expect(pendingRequest(withAnnotations(bay, {}), 'rotateCa')).toBeUndefined();
  });

  it('a requested leaf rotation starts now and re-issues leaves issued before it', () => {
    const start = rotationAtStart(withAnnotations(bay, { 'marina.dev/rotate-certificates': 'r1' }), false, at(3 * 365 * DAY), policy, at(0));
    expect(start).toMatchObject({ newCa: false, rotation: { kind: 'Leaves', reason: 'Requested', request: 'r1', step: 'Rolling' } });
    // The next whole second: a leaf issued in the second the request came is renewed too.
    expect(reissueIssuedBefore(start.rotation)).toEqual(at(1_000));
  });

  it('a CA rotation starts on request, or by itself while the CA can still sign a full leaf, and wins over a leaf request', () => {
    const asked = withAnnotations(bay, { 'marina.dev/rotate-ca': 'c1', 'marina.dev/rotate-certificates': 'r1' });
    expect(rotationAtStart(asked, false, at(3 * 365 * DAY), policy, at(0))).toMatchObject({ newCa: true, rotation: { kind: 'CA', reason: 'Requested', request: 'c1' } });
    const caNotAfter = at(120 * DAY);
    expect(rotationAtStart(bay, false, caNotAfter, policy, at(-1_000)).rotation).toBeUndefined();
    expect(rotationAtStart(bay, false, caNotAfter, policy, at(0))).toMatchObject({ newCa: true, rotation: { kind: 'CA', reason: 'Expiring' } });
  });

  it('an old CA found in the Secret without a rotation in status (a crash between the writes) is a CA rotation in its first step', () => {
    expect(rotationAtStart(bay, true, at(3 * 365 * DAY), policy, at(0))).toMatchObject({ newCa: false, rotation: { kind: 'CA', step: 'Rolling' } });
  });

  it('a stopped rollout resumes only on a new rotate-certificates value', () => {
    const stopped: CertificateRotation = { kind: 'Leaves', reason: 'Requested', request: 'r1', step: 'Rolling', startedTime: '2027-01-01T00:00:00Z', stoppedTime: '2027-01-01T00:10:00Z' };
    const same = rotationAtStart(withAnnotations(bay, { 'marina.dev/rotate-certificates': 'r1' }, {}, stopped), false, at(3 * 365 * DAY), policy, at(HOUR));
    expect(same).toMatchObject({ resumed: false, rotation: { stoppedTime: '2027-01-01T00:10:00Z' } });
    const again = rotationAtStart(withAnnotations(bay, { 'marina.dev/rotate-certificates': 'r2' }, {}, stopped), false, at(3 * 365 * DAY), policy, at(HOUR));
    expect(again.resumed).toBe(true);
    expect(again.rotation?.stoppedTime).toBeUndefined();
    expect(again.rotation?.request).toBe('r2');
  });
});

describe('rotation steps', () => {
  const rolling: CertificateRotation = { kind: 'CA', reason: 'Requested', request: 'c1', step: 'Rolling', startedTime: '2027-01-01T00:00:00Z' };

  it('a CA rotation overlaps for caOverlap once every node serves the new CA, then drops the old CA, then finishes', () => {
    expect(nextRotationStep(rolling, false, policy, at(0))).toEqual({ kind: 'wait' });
    const advanced = nextRotationStep(rolling, true, policy, at(0));
    expect(advanced).toEqual({ kind: 'advance', rotation: { ...rolling, step: 'Overlap', overlapUntil: '2027-01-02T00:00:00Z' } });
    const overlap = (advanced as { rotation: CertificateRotation }).rotation;
    expect(rotationWakeAt(overlap)).toEqual(at(DAY));
    expect(nextRotationStep(overlap, true, policy, at(DAY - 1_000))).toEqual({ kind: 'wait' });
    const drop = nextRotationStep(overlap, true, policy, at(DAY));
    expect(drop).toMatchObject({ kind: 'drop-old-ca', rotation: { step: 'Dropping' } });
    const dropping = (drop as { rotation: CertificateRotation }).rotation;
    expect(nextRotationStep(dropping, false, policy, at(DAY))).toEqual({ kind: 'wait' });
    expect(nextRotationStep(dropping, true, policy, at(DAY))).toEqual({ kind: 'finished', handled: { rotateCa: 'c1' } });
  });

  it('a leaf rotation finishes once every node serves its new certificate; an expiry-driven one acknowledges no request', () => {
    const leaves: CertificateRotation = { kind: 'Leaves', reason: 'Expiring', step: 'Rolling', startedTime: '2027-01-01T00:00:00Z' };
    expect(nextRotationStep(leaves, true, policy, at(0))).toEqual({ kind: 'finished' });
    expect(nextRotationStep({ ...leaves, stoppedTime: '2027-01-01T00:01:00Z' }, true, policy, at(0))).toEqual({ kind: 'wait' });
  });
});
