import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  describeFindings,
  findKeyMaterial,
  FRAGMENT_LENGTH,
  KeyFragmentIndex,
  pemBody,
  type KnownPrivateKey,
  type ScannedText,
} from '../../support/key-material.js';
import { createTestCa, privateKeyPem } from '../../support/test-pki.js';

const ca = createTestCa('key-scan-test-ca');
const leaf = ca.issue({ commonName: 'node-0', server: true, ips: ['10.0.0.5'] });
const secretKey: KnownPrivateKey = { owner: 'Secret team-a/web-ca, key tls.key', pem: leaf.keyPem };

const rsaPkcs1 = privateKeyPem('rsa', 'pkcs1');
const ecSec1 = privateKeyPem('ec', 'sec1');
const ed25519 = privateKeyPem('ed25519');

const base64 = (text: string): string => Buffer.from(text).toString('base64');

/** Scans one text, the way the e2e tier scans a log line or an Event, against the one known key. */
function scan(text: string, keys: readonly KnownPrivateKey[] = [secretKey]) {
  return findKeyMaterial([{ source: 'operator log', location: 'line 3', text }], keys);
}

const kinds = (text: string, keys?: readonly KnownPrivateKey[]): string[] => scan(text, keys).map((f) => f.kind);

describe('finding private key material in texts a tenant or a log reader sees', () => {
  describe('PEM private key blocks', () => {
    it.each([
      ['PKCS#8', leaf.keyPem, 'PRIVATE KEY'],
      ['PKCS#1 RSA', rsaPkcs1, 'RSA PRIVATE KEY'],
      ['SEC1 EC', ecSec1, 'EC PRIVATE KEY'],
      ['Ed25519', ed25519, 'PRIVATE KEY'],
    ])('a %s key in a log line is found, named by its label', (_name, pem, label) => {
      expect(kinds(`{"msg":"loaded","key":"${pem}"}`, [])).toEqual([`PEM private key block (${label})`]);
    });

    it('a key inside JSON, its line breaks escaped, is found', () => {
      expect(kinds(JSON.stringify({ status: { message: `bad key ${rsaPkcs1}` } }), [])).toEqual([
        'PEM private key block (RSA PRIVATE KEY)',
      ]);
    });

    it('an encrypted key (Proc-Type header) is found', () => {
      const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048 })
        .privateKey.export({ type: 'pkcs1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' })
        .toString();
      expect(kinds(encrypted, [])).toEqual(['PEM private key block (RSA PRIVATE KEY)']);
    });

    it('a message that only names the header, without a key, is not key material', () => {
      const hint = 'tls.key must start with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----';
      expect(scan(hint, [])).toEqual([]);
    });
  });

  describe('PEM blocks base64-encoded once, as in a copied Secret value', () => {
    it('a key encoded on one line is found', () => {
      expect(kinds(`{"data":{"key.pem":"${base64(ecSec1)}"}}`, [])).toEqual([
        'base64-encoded PEM private key block (EC PRIVATE KEY)',
      ]);
    });

    it('a key encoded and wrapped at 76 columns, glued to a word before it, is found', () => {
      const wrapped = base64(leaf.keyPem).replace(/.{76}/g, '$&\n');
      expect(kinds(`value=x${wrapped}`, [])).toContain('base64-encoded PEM private key block (PRIVATE KEY)');
    });
  });

  describe('fragments of the keys the cluster keeps', () => {
    const body = pemBody(leaf.keyPem);

    it(`a ${FRAGMENT_LENGTH}-character run of a key's body is found and names the Secret`, () => {
      const fragment = body.slice(700, 700 + FRAGMENT_LENGTH);
      expect(scan(`reconcile failed near ${fragment} (truncated)`)).toEqual([
        {
          source: 'operator log',
          location: 'line 3',
          kind: 'fragment of a known private key',
          keyOwner: secretKey.owner,
        },
      ]);
    });

    it(`a run one character shorter is not a finding`, () => {
      expect(scan(`near ${body.slice(700, 700 + FRAGMENT_LENGTH - 1)}.`)).toEqual([]);
    });

    it('a run that crosses a line break of the PEM is found', () => {
      const lines = leaf.keyPem.split('\n');
      expect(kinds(`${lines[3]!.slice(-25)}\n${lines[4]!.slice(0, 25)}`)).toEqual(['fragment of a known private key']);
    });

    it("a run of the Secret's base64 value of the key is found", () => {
      const secretValue = base64(leaf.keyPem);
      expect(kinds(`"tls.key": "…${secretValue.slice(300, 300 + FRAGMENT_LENGTH)}…"`)).toEqual([
        'base64-encoded fragment of a known private key',
      ]);
    });

    it('a run of the base64 encoding of a larger text that holds the key is found, whatever its alignment', () => {
      for (const prefix of ['', 'a', 'ab', 'abc']) {
        const encoded = base64(`${prefix}cert and key:\n${leaf.keyPem}`);
        const fragment = encoded.slice(600, 600 + FRAGMENT_LENGTH + 4);
        expect(kinds(fragment)).toContain('base64-encoded fragment of a known private key');
      }
    });
  });

  describe('no false positive on public material', () => {
    it('a certificate, its base64 encoding and the public key are not key material', () => {
      const publicKey = createPublicKey(ecSec1).export({ type: 'spki', format: 'pem' }).toString();
      const texts: ScannedText[] = [leaf.certPem, base64(leaf.certPem), ca.certPem, publicKey].map((text, i) => ({
        source: 'Event',
        location: `e${i}`,
        text: JSON.stringify({ message: text }),
      }));
      expect(findKeyMaterial(texts, [secretKey, { owner: 'Secret x/ca', pem: ca.keyPem }])).toEqual([]);
    });
  });

  it('a report says where and what, never the key', () => {
    const findings = scan(`${leaf.keyPem} and ${base64(leaf.keyPem)}`);
    const report = describeFindings(findings);

    expect(report).toContain('operator log line 3: PEM private key block (PRIVATE KEY)');
    expect(report).toContain(`(the key in ${secretKey.owner})`);
    expect(report).not.toContain('-----BEGIN');
    expect(new KeyFragmentIndex([secretKey]).find(report)).toEqual([]);
  });
});
