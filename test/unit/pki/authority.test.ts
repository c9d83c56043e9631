import { X509Certificate, createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_CA_VALIDITY_MS,
  InvalidCertificateError,
  InvalidKeyError,
  KeyMismatchError,
  createCertificateAuthority,
  loadCertificateAuthority,
  type CertificateAuthority,
} from '../../../src/pki/index.js';
import { ONE_DAY_MS, createBayPki } from '../../support/swarm/bay-pki.js';
import { opensslExtension, opensslSerial, opensslText } from '../../support/swarm/openssl.js';

describe('a bay certificate authority', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  let ca: CertificateAuthority;

  beforeAll(async () => {
    ca = await createCertificateAuthority({ commonName: 'marina bay team-a/web', now });
  });

  it('is a self-signed CA certificate with the given common name', () => {
    const x509 = new X509Certificate(ca.certPem);
    expect(x509.ca).toBe(true);
    expect(x509.subject).toBe('CN=marina bay team-a/web');
    expect(x509.issuer).toBe(x509.subject);
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(ca.commonName).toBe('marina bay team-a/web');
  });

  it('marks basicConstraints critical and allows only certificate and CRL signing plus signatures', () => {
    expect(opensslText(ca.certPem)).toContain('X509v3 Basic Constraints: critical');
    expect(opensslExtension(ca.certPem, 'X509v3 Basic Constraints')).toBe('CA:TRUE');
    expect(opensslExtension(ca.certPem, 'X509v3 Key Usage')).toBe('Digital Signature, Certificate Sign, CRL Sign');
  });

  it('carries a subject key identifier for leaves to point at', () => {
    expect(opensslExtension(ca.certPem, 'X509v3 Subject Key Identifier')).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
  });

  it('is an RSA 2048 key signed with SHA-256', () => {
    const text = opensslText(ca.certPem);
    expect(text).toContain('Public-Key: (2048 bit)');
    expect(text).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(text).not.toMatch(/sha1/i);
  });

  it('has a positive serial number', () => {
    expect(opensslSerial(ca.certPem)).toMatch(/^[0-7][0-9A-F]{31}$/);
  });

  it('is valid for three years by default, from five minutes before it was made', () => {
    const x509 = new X509Certificate(ca.certPem);
    expect(new Date(x509.validFrom).getTime()).toBe(now.getTime() - 5 * 60_000);
    expect(new Date(x509.validTo).getTime()).toBe(now.getTime() + DEFAULT_CA_VALIDITY_MS);
    expect(ca.notAfter).toEqual(new Date(now.getTime() + DEFAULT_CA_VALIDITY_MS));
  });

  it('takes another validity when asked', async () => {
    const short = await createCertificateAuthority({ commonName: 'short', validityMs: 30 * ONE_DAY_MS, now });
    expect(short.notAfter).toEqual(new Date(now.getTime() + 30 * ONE_DAY_MS));
  });

  it('keeps its private key as PKCS#8 PEM that belongs to the certificate', () => {
    expect(ca.keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    expect(new X509Certificate(ca.certPem).checkPrivateKey(createPrivateKey(ca.keyPem))).toBe(true);
  });

  it('reports the lowercase SHA-256 fingerprint of its DER', () => {
    expect(ca.fingerprint256).toBe(new X509Certificate(ca.certPem).fingerprint256.replace(/:/g, '').toLowerCase());
  });
});

describe('loading a stored CA', () => {
  let ca: CertificateAuthority;
  let other: CertificateAuthority;

  beforeAll(async () => {
    [ca, other] = await Promise.all([
      createCertificateAuthority({ commonName: 'stored' }),
      createCertificateAuthority({ commonName: 'other' }),
    ]);
  });

  it('accepts the pair it was created with', () => {
    const loaded = loadCertificateAuthority({ certPem: ca.certPem, keyPem: ca.keyPem });
    expect(loaded.fingerprint256).toBe(ca.fingerprint256);
    expect(loaded.notAfter).toEqual(ca.notAfter);
  });

  it('accepts the key in PKCS#1 form too', () => {
    const pkcs1 = createPrivateKey(ca.keyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
    expect(loadCertificateAuthority({ certPem: ca.certPem, keyPem: pkcs1 }).commonName).toBe('stored');
  });

  it('refuses a key that belongs to another CA', () => {
    expect(() => loadCertificateAuthority({ certPem: ca.certPem, keyPem: other.keyPem })).toThrow(KeyMismatchError);
  });

  it('refuses a leaf certificate as CA', async () => {
    const { client } = await createBayPki({ name: 'leaf-as-ca' });
    expect(() => loadCertificateAuthority(client)).toThrow(InvalidCertificateError);
  });

  it('refuses an EC key, which node-forge cannot sign with', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => loadCertificateAuthority({ certPem: ca.certPem, keyPem })).toThrow(InvalidKeyError);
  });

  it('does not quote an unreadable key in its error', () => {
    const damaged = ca.keyPem.replace(/[A-Za-z]{20}/, '!!!!!!!!!!!!!!!!!!!!');
    const error = catchError(() => loadCertificateAuthority({ certPem: ca.certPem, keyPem: damaged }));
    expect(error).toBeInstanceOf(InvalidKeyError);
    expect(error.message).toContain('stored');
    for (const line of damaged.split('\n').filter((l) => l.length > 16)) expect(String(error.stack)).not.toContain(line);
    expect(error.cause).toBeUndefined();
  });

  it('refuses text that is not a certificate', () => {
    expect(() => loadCertificateAuthority({ certPem: 'hello', keyPem: ca.keyPem })).toThrow(InvalidCertificateError);
  });
});

function catchError(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}
