import { X509Certificate, createPrivateKey } from 'node:crypto';
import forge from 'node-forge';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CLOCK_SKEW_ALLOWANCE_MS,
  InvalidIssueRequestError,
  createCertificateAuthority,
  inspectCertificate,
  isIssuedBy,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../../src/pki/index.js';
import { randomPositiveSerial } from '../../../src/pki/serial.js';
import { ONE_DAY_MS } from '../../support/swarm/bay-pki.js';
import { opensslExtension, opensslSerial, opensslText } from '../../support/swarm/openssl.js';

const now = new Date('2026-03-01T12:00:00Z');

describe('issuing leaf certificates', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let server: IssuedCertificate;
  let client: IssuedCertificate;

  beforeAll(async () => {
    [ca, otherCa] = await Promise.all([
      createCertificateAuthority({ commonName: 'bay CA', now }),
      createCertificateAuthority({ commonName: 'other CA', now }),
    ]);
    [server, client] = await Promise.all([
      issueServerCertificate(ca, {
        commonName: 'web-1a2b-0',
        ipAddresses: ['10.213.71.10', 'fd42::10'],
        dnsNames: ['web-1a2b-0'],
        validityMs: 90 * ONE_DAY_MS,
        now,
      }),
      issueClientCertificate(ca, { identity: 'marina-operator', validityMs: 90 * ONE_DAY_MS, now }),
    ]);
  });

  describe.each([
    ['server', () => server],
    ['client', () => client],
  ])('every %s certificate', (_usage, leaf) => {
    it('verifies against the CA that issued it and against no other', () => {
      const x509 = new X509Certificate(leaf().certPem);
      const caX509 = new X509Certificate(ca.certPem);
      expect(x509.checkIssued(caX509)).toBe(true);
      expect(x509.verify(caX509.publicKey)).toBe(true);
      expect(isIssuedBy(leaf().certPem, ca.certPem)).toBe(true);
      expect(isIssuedBy(leaf().certPem, otherCa.certPem)).toBe(false);
    });

    it('is signed with SHA-256', () => {
      expect(opensslText(leaf().certPem)).toContain('Signature Algorithm: sha256WithRSAEncryption');
    });

    it('has a positive serial number, as OpenSSL reads it', () => {
      expect(opensslSerial(leaf().certPem)).toMatch(/^[0-7][0-9A-F]{31}$/);
      expect(leaf().serial).toBe(opensslSerial(leaf().certPem).toLowerCase());
    });

    it('names the CA key as its authority key identifier, not its own key', () => {
      const caSki = opensslExtension(ca.certPem, 'X509v3 Subject Key Identifier');
      const leafSki = opensslExtension(leaf().certPem, 'X509v3 Subject Key Identifier');
      const leafAki = opensslExtension(leaf().certPem, 'X509v3 Authority Key Identifier');
      expect(leafAki?.replace(/^keyid:/, '')).toBe(caSki);
      expect(leafSki).not.toBe(caSki);
    });

    it('is not a CA', () => {
      expect(new X509Certificate(leaf().certPem).ca).toBe(false);
      expect(opensslExtension(leaf().certPem, 'X509v3 Basic Constraints')).toBe('CA:FALSE');
    });

    it('starts five minutes in the past to absorb clock skew between operator and nodes', () => {
      expect(leaf().notBefore.getTime()).toBe(now.getTime() - CLOCK_SKEW_ALLOWANCE_MS);
      expect(CLOCK_SKEW_ALLOWANCE_MS).toBe(5 * 60_000);
    });

    it('ends after the requested validity', () => {
      expect(leaf().notAfter).toEqual(new Date(now.getTime() + 90 * ONE_DAY_MS));
      expect(new Date(new X509Certificate(leaf().certPem).validTo)).toEqual(leaf().notAfter);
    });

    it('comes with its own fresh PKCS#8 RSA 2048 key', () => {
      const key = createPrivateKey(leaf().keyPem);
      expect(leaf().keyPem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
      expect(key.asymmetricKeyDetails?.modulusLength).toBe(2048);
      expect(new X509Certificate(leaf().certPem).checkPrivateKey(key)).toBe(true);
      expect(leaf().keyPem).not.toBe(ca.keyPem);
    });

    it('reports the fingerprint of its DER', () => {
      expect(leaf().fingerprint256).toBe(inspectCertificate(leaf().certPem).fingerprint256);
    });
  });

  describe('a server certificate', () => {
    it('is for server authentication only', () => {
      expect(opensslExtension(server.certPem, 'X509v3 Extended Key Usage')).toBe('TLS Web Server Authentication');
      expect(server.usage).toBe('server');
    });

    it('names the node address, its hostname and the loopback names as SANs', () => {
      const { sans, subjectCommonName, issuerCommonName } = inspectCertificate(server.certPem);
      expect(sans.ipAddresses).toEqual(['10.213.71.10', 'fd42::10', '127.0.0.1']);
      expect(sans.dnsNames).toEqual(['web-1a2b-0', 'localhost']);
      expect(subjectCommonName).toBe('web-1a2b-0');
      expect(issuerCommonName).toBe('bay CA');
    });

    it('leaves the loopback names out when asked', async () => {
      const bare = await issueServerCertificate(ca, { commonName: 'n', ipAddresses: ['10.0.0.9'], includeLoopback: false, validityMs: ONE_DAY_MS });
      expect(inspectCertificate(bare.certPem).sans).toEqual({ dnsNames: [], ipAddresses: ['10.0.0.9'] });
    });

    it('is refused without any name a client could check', async () => {
      await expect(issueServerCertificate(ca, { commonName: 'n', ipAddresses: [], includeLoopback: false, validityMs: ONE_DAY_MS })).rejects.toThrow(
        InvalidIssueRequestError,
      );
    });

    it('is refused for something that is not an IP address or a DNS name', async () => {
      await expect(issueServerCertificate(ca, { commonName: 'n', ipAddresses: ['10.0.0.300'], validityMs: ONE_DAY_MS })).rejects.toThrow(/not an IP address/);
      await expect(issueServerCertificate(ca, { commonName: 'n', ipAddresses: [], dnsNames: ['bad name'], validityMs: ONE_DAY_MS })).rejects.toThrow(
        /not a DNS name/,
      );
    });
  });

  describe('a client certificate', () => {
    it('is for client authentication only, with the identity as common name', () => {
      expect(opensslExtension(client.certPem, 'X509v3 Extended Key Usage')).toBe('TLS Web Client Authentication');
      expect(inspectCertificate(client.certPem).subjectCommonName).toBe('marina-operator');
      expect(inspectCertificate(client.certPem).sans).toEqual({ dnsNames: [], ipAddresses: [] });
      expect(client.usage).toBe('client');
    });

    it('carries organizations when given', async () => {
      const user = await issueClientCertificate(ca, { identity: 'bay-user', organizations: ['team-a'], validityMs: ONE_DAY_MS });
      expect(new X509Certificate(user.certPem).subject).toBe('CN=bay-user\nO=team-a');
    });

    it('is refused without an identity', async () => {
      await expect(issueClientCertificate(ca, { identity: ' ', validityMs: ONE_DAY_MS })).rejects.toThrow(InvalidIssueRequestError);
    });
  });

  describe('validity limits', () => {
    it('never outlives the issuing CA', async () => {
      const shortCa = await createCertificateAuthority({ commonName: 'short CA', validityMs: 10 * ONE_DAY_MS, now });
      const leaf = await issueClientCertificate(shortCa, { identity: 'u', validityMs: 90 * ONE_DAY_MS, now });
      expect(leaf.notAfter).toEqual(shortCa.notAfter);
    });

    it('refuses to issue from an expired CA', async () => {
      const later = new Date(ca.notAfter.getTime() + 1_000);
      await expect(issueClientCertificate(ca, { identity: 'u', validityMs: ONE_DAY_MS, now: later })).rejects.toThrow(/expired/);
    });

    it('refuses a validity that is not positive', async () => {
      await expect(issueClientCertificate(ca, { identity: 'u', validityMs: 0 })).rejects.toThrow(InvalidIssueRequestError);
    });
  });
});

describe('serial numbers', () => {
  it('are 16 random bytes whose first byte keeps the DER INTEGER positive and 16 bytes long', () => {
    const serials = Array.from({ length: 2_000 }, randomPositiveSerial);
    for (const serial of serials) {
      expect(serial).toMatch(/^[0-9a-f]{32}$/);
      const first = Number.parseInt(serial.slice(0, 2), 16);
      expect(first).toBeGreaterThanOrEqual(0x01);
      expect(first).toBeLessThanOrEqual(0x7f);
    }
    expect(new Set(serials).size).toBe(serials.length);
  });

  it('encode as a positive ASN.1 INTEGER in DER', () => {
    for (let i = 0; i < 200; i++) {
      const serial = randomPositiveSerial();
      const integer = forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.INTEGER, false, forge.util.hexToBytes(serial));
      const bytes = forge.asn1.toDer(integer).getBytes();
      expect(bytes.charCodeAt(0)).toBe(0x02); // INTEGER
      expect(bytes.charCodeAt(1)).toBe(16); // length: no sign padding needed, none lost
      expect(bytes.charCodeAt(2) & 0x80).toBe(0); // sign bit clear
    }
  });
});
