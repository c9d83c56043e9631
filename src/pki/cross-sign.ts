import forge from 'node-forge';
import type { CertificateAuthority } from './authority.js';
import { signCertificate, signerFor } from './forge-sign.js';
import { CLOCK_SKEW_ALLOWANCE_MS } from './validity.js';

/**
 * The new CA's certificate signed by the old CA: same subject and key as the new CA, issued by the
 * old one. A node that serves `[leaf of the new CA, this]` is verified by a client that trusts only
 * the old CA (leaf → cross → old root), and by one that trusts only the new CA (leaf → new root).
 * That is what lets tenants keep their old bundle while nodes move to the new CA, one by one.
 */
export function crossSignAuthority(
  next: CertificateAuthority,
  previous: CertificateAuthority,
  now: Date = new Date(),
): string {
  const nextCert = forge.pki.certificateFromPem(next.certPem);
  const notAfter = Math.min(next.notAfter.getTime(), previous.notAfter.getTime());
  return signCertificate(
    {
      subject: nextCert.subject.attributes,
      publicKeyPem: forge.pki.publicKeyToPem(nextCert.publicKey),
      validity: { notBefore: new Date(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS), notAfter: new Date(notAfter) },
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
      ],
    },
    signerFor(previous.certPem, previous.keyPem),
  );
}
