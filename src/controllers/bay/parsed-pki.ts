import { createHash } from 'node:crypto';
import {
  credentialsBundle,
  inspectCertificate,
  isIssuedBy,
  loadCertificateAuthority,
  type CertificateAuthority,
  type CertificateInfo,
} from '../../pki/index.js';

/**
 * Certificates and keys parsed once per content. A Ready bay is resynced every few minutes and reads
 * its CA, its client and every node's certificate from the cache each time; parsing them again (and
 * checking the CA's key and each node's signature) would be most of what an idle operator spends.
 * Entries are keyed by a digest of the PEM texts, so a renewed certificate is a new entry and a stale
 * one is never served; the oldest entries go when the memo is full.
 */
class ContentMemo {
  private readonly entries = new Map<string, unknown>();

  constructor(private readonly capacity: number) {}

  /** `parts` are hashed into the key: PEM texts are kilobytes each, a digest is 43 characters. */
  get<T>(parts: readonly string[], compute: () => T): T {
    const key = createHash('sha256').update(parts.join('\0')).digest('base64url');
    if (this.entries.has(key)) return this.entries.get(key) as T;
    const value = compute();
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, value);
    return value;
  }
}

/** Room for ten thousand bays' CAs, clients and nodes. */
const memo = new ContentMemo(60_000);

export const inspectOnce = (pem: string): CertificateInfo => memo.get(['inspect', pem], () => inspectCertificate(pem));

export const issuedByOnce = (certPem: string, caPem: string): boolean => memo.get(['issued', certPem, caPem], () => isIssuedBy(certPem, caPem));

export const authorityOnce = (certPem: string, keyPem: string): CertificateAuthority =>
  memo.get(['authority', certPem, keyPem], () => loadCertificateAuthority({ certPem, keyPem }));

/** The tenant's bundle for the same CA, client and endpoint is the same files: built once. */
export const bundleOnce = (caPem: string, certPem: string, keyPem: string, address: string): Record<string, string> =>
  memo.get(['bundle', caPem, certPem, keyPem, address], () => credentialsBundle({ caPems: [caPem], certPem, keyPem, endpoint: { address } }));

/** Anything else derived from PEM texts alone (a node's TLS generation), computed once per content. */
export const derivedOnce = <T>(kind: string, pems: readonly string[], compute: () => T): T => memo.get([kind, ...pems], compute);
