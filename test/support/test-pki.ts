import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

// Certificates for the test environment only (the apiserver's CA, serving cert and client identities).
// The product's own PKI lives in src/pki; this file exists so that the harness does not depend on it.

export interface TestKeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TestCa extends TestKeyPair {
  issue(opts: { commonName: string; organizations?: readonly string[]; server?: boolean; ips?: readonly string[]; dns?: readonly string[] }): TestKeyPair;
}

/** A fresh private key in PEM, in the encoding asked for (PKCS#8, or the algorithm's own: PKCS#1, SEC1). */
export function privateKeyPem(
  algorithm: 'rsa' | 'ec' | 'ed25519',
  encoding: 'pkcs8' | 'pkcs1' | 'sec1' = 'pkcs8',
): string {
  const { privateKey } =
    algorithm === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 })
      : algorithm === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return privateKey.export({ type: encoding, format: 'pem' }).toString();
}

function positiveSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

function newRsaKey(): { forgeKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { forgeKey, publicKey: forge.pki.rsa.setPublicKey(forgeKey.n, forgeKey.e), pem: privateKey };
}

function validity(cert: forge.pki.Certificate): void {
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 5 * 60_000);
  cert.validity.notAfter = new Date(now + 24 * 3600_000);
}

export function createTestCa(commonName = 'marina-test-ca'): TestCa {
  const key = newRsaKey();
  const ca = forge.pki.createCertificate();
  ca.publicKey = key.publicKey;
  ca.serialNumber = positiveSerial();
  validity(ca);
  const subject = [{ name: 'commonName', value: commonName }];
  ca.setSubject(subject);
  ca.setIssuer(subject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(key.forgeKey, forge.md.sha256.create());
  return loadTestCa(forge.pki.certificateToPem(ca), key.pem);
}

/** A CA from its PEM files, e.g. one written by another process of the test run. */
export function loadTestCa(certPem: string, keyPem: string): TestCa {
  const ca = forge.pki.certificateFromPem(certPem);
  const caKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const caKeyId = ca.generateSubjectKeyIdentifier().getBytes();
  return {
    certPem,
    keyPem,
    issue({ commonName: cn, organizations = [], server = false, ips = [], dns = [] }) {
      const leafKey = newRsaKey();
      const leaf = forge.pki.createCertificate();
      leaf.publicKey = leafKey.publicKey;
      leaf.serialNumber = positiveSerial();
      validity(leaf);
      leaf.setSubject([
        { name: 'commonName', value: cn },
        ...organizations.map((o) => ({ name: 'organizationName', value: o })),
      ]);
      leaf.setIssuer(ca.subject.attributes);
      const altNames = [...dns.map((value) => ({ type: 2, value })), ...ips.map((ip) => ({ type: 7, ip }))];
      leaf.setExtensions([
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
        { name: 'extKeyUsage', serverAuth: server, clientAuth: !server },
        { name: 'authorityKeyIdentifier', keyIdentifier: caKeyId },
        ...(altNames.length > 0 ? [{ name: 'subjectAltName', altNames }] : []),
      ]);
      leaf.sign(caKey, forge.md.sha256.create());
      return { certPem: forge.pki.certificateToPem(leaf), keyPem: leafKey.pem };
    },
  };
}
