import { describe, expect, it } from 'vitest';

import { credentialsFromSecretData, InvalidCredentialsError } from '../../../src/hosts/credentials.js';
import { makeClientIdentity } from '../../support/lxd/certificates.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const HOST_PIN = 'ab'.repeat(32);
const tokenFor = (fingerprint: string) =>
  b64(JSON.stringify({ client_name: 'marina', fingerprint, addresses: ['10.0.0.11:8443'], secret: 's3cret' }));

describe('host credentials from a Secret', async () => {
  const client = await makeClientIdentity('marina-unit');
  const base = { 'tls.crt': b64(client.certificate), 'tls.key': b64(client.key) };

  it('a trust token alone pins the host it came from, and is kept to be redeemed', () => {
    const credentials = credentialsFromSecretData({ ...base, trustToken: b64(tokenFor(HOST_PIN)) }, 'Secret ns/h');
    expect(credentials.serverFingerprint).toBe(HOST_PIN);
    expect(credentials.trustToken).toBe(tokenFor(HOST_PIN));
  });

  it('refuses a token that names another host than the pinned fingerprint', () => {
    const data = { ...base, serverFingerprint: b64('cd'.repeat(32)), trustToken: b64(tokenFor(HOST_PIN)) };
    expect(() => credentialsFromSecretData(data, 'Secret ns/h')).toThrow(
      'serverFingerprint and trustToken name different host certificates',
    );
  });

  it('says what is wrong with a token without repeating it', () => {
    const garbage = 'not-a-token-but-maybe-a-secret';
    const attempt = () => credentialsFromSecretData({ ...base, trustToken: b64(garbage) }, 'Secret ns/h');
    expect(attempt).toThrow(InvalidCredentialsError);
    expect(attempt).toThrow(/trustToken: not a trust token/);
    expect(attempt).not.toThrow(new RegExp(garbage));
  });

  it('needs some pin of the host', () => {
    expect(() => credentialsFromSecretData(base, 'Secret ns/h')).toThrow(
      'serverFingerprint, server.crt or trustToken is required to pin the host',
    );
  });
});
