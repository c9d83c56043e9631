import { X509Certificate, createHash } from 'node:crypto';

/**
 * Certificate fingerprints the way LXD and Incus print them: lowercase hex SHA-256 of the DER
 * encoding, no colons (`lxc info`, `lxc config trust list`, `GET /1.0/certificates`).
 */
export function certificateFingerprint(certificate: string | Uint8Array): string {
  const der = typeof certificate === 'string' ? new X509Certificate(certificate).raw : certificate;
  return createHash('sha256').update(der).digest('hex');
}

/** Accepts `AB:CD:...` (OpenSSL's form) or plain hex; returns the canonical form or undefined. */
export function normalizeFingerprint(value: string): string | undefined {
  const hex = value.trim().replace(/^sha256:/i, '').replace(/:/g, '').toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
