import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { credentialsFromPem, credentialsFromSecretData } from '../../../src/hosts/credentials.js';
import { HostAuthError, HostTlsError } from '../../../src/hosts/errors.js';
import { createHostProvider } from '../../../src/hosts/factory.js';
import type { LxdClient } from '../../../src/hosts/lxd/client.js';
import { createLxdClient } from '../../../src/hosts/lxd/connect.js';
import { decodeTrustToken, redeemTrustToken, trustClientCertificate } from '../../../src/hosts/lxd/trust.js';
import type { ClientIdentity, LxcCli, LxdTestHost } from '../../support/lxd/index.js';
import { lxcFor, lxdTestHost, makeClientIdentity, trustedTestIdentity } from '../../support/lxd/index.js';

/**
 * How a host comes to trust marina, and that it trusts nobody else: the HTTPS API refuses clients
 * whose certificate is not in the host's trust store, and marina refuses hosts whose certificate is
 * not the pinned one. The host's trust store is read (and cleaned) with the real `lxc` CLI.
 */
describe('trust between marina and an LXD host', () => {
  let host: LxdTestHost;
  let lxc: LxcCli;
  let socket: LxdClient;
  const trustedHere: string[] = [];

  beforeAll(async () => {
    host = await lxdTestHost();
    lxc = lxcFor(host);
    socket = createLxdClient(host.socketEndpoint, undefined, { name: 'e2e-socket' });
  });

  afterAll(async () => {
    for (const fingerprint of trustedHere) await lxc.must(['config', 'trust', 'remove', fingerprint]);
    socket?.close();
  });

  function credentialsOf(identity: ClientIdentity, serverFingerprint = host.serverFingerprint) {
    return credentialsFromPem(
      { clientCertificate: identity.certificate, clientKey: identity.key, serverFingerprint },
      'test',
    );
  }

  function providerWith(identity: ClientIdentity, serverFingerprint = host.serverFingerprint) {
    return createHostProvider(host.httpsEndpoint, credentialsOf(identity, serverFingerprint), { name: 'e2e-https' });
  }

  it('refuses a client certificate the host does not trust', async () => {
    const identity = await makeClientIdentity('stranger');
    const stranger = providerWith(identity);
    const raw = createLxdClient(host.httpsEndpoint, credentialsOf(identity), { name: 'e2e-https' });
    try {
      await expect(stranger.listNodes({})).rejects.toBeInstanceOf(HostAuthError);
      await expect(stranger.probe()).resolves.toMatchObject({ trusted: false });
      // The host itself answers 403 when asked anyway (marina's own trust check skipped).
      await expect(raw.get('/1.0/instances', { operation: 'test' })).rejects.toBeInstanceOf(HostAuthError);
    } finally {
      stranger.close();
      raw.close();
    }
  });

  it('refuses a host whose certificate is not the pinned one', async () => {
    const identity = await makeClientIdentity('pinned-elsewhere');
    const misled = providerWith(identity, 'ab'.repeat(32));
    try {
      const failure = misled.listNodes({});
      await expect(failure).rejects.toBeInstanceOf(HostTlsError);
      await expect(failure).rejects.toThrow(host.serverFingerprint);
    } finally {
      misled.close();
    }
  });

  it('trusting a certificate over the unix socket is idempotent and opens the HTTPS API to it', async () => {
    const identity = await makeClientIdentity('trusted-by-admin');

    expect(await trustClientCertificate(socket, identity.certificate, 'e2e-admin-added')).toBe('added');
    trustedHere.push(identity.fingerprint);
    expect(await trustClientCertificate(socket, identity.certificate, 'e2e-admin-added')).toBe('already-trusted');
    expect((await lxc.trustedFingerprints()).filter((f) => f === identity.fingerprint)).toHaveLength(1);

    const provider = providerWith(identity);
    try {
      await expect(provider.listNodes({})).resolves.toBeInstanceOf(Array);
    } finally {
      provider.close();
    }
  });

  it('credentials in the documented Secret layout reach the host', async () => {
    const identity = await trustedTestIdentity(host);
    const server = JSON.parse(await lxc.must(['query', '/1.0'])) as { environment?: { certificate?: string } };
    const serverCertificate = server.environment?.certificate ?? '';
    const base64 = (text: string): string => Buffer.from(text).toString('base64');
    const data = { 'tls.crt': base64(identity.certificate), 'tls.key': base64(identity.key), 'server.crt': base64(serverCertificate) };

    const credentials = credentialsFromSecretData(data, 'marina-system/e2e-host');
    expect(credentials.serverFingerprint).toBe(host.serverFingerprint);
    const provider = createHostProvider(host.httpsEndpoint, credentials, { name: 'e2e-https' });
    try {
      await expect(provider.probe()).resolves.toMatchObject({ trusted: true });
    } finally {
      provider.close();
    }
  });

  it('a trust token makes a new client trusted, pinned to the host that issued it', async () => {
    const issued = await lxc.run(['config', 'trust', 'add', '--name', 'e2e-token-client']);
    expect(issued.code, issued.stderr).toBe(0);
    const token = issued.stdout.trim().split('\n').at(-1) ?? '';
    const decoded = decodeTrustToken(token);
    expect(decoded.fingerprint).toBe(host.serverFingerprint);

    const identity = await makeClientIdentity('token-client');
    const client = createLxdClient(host.httpsEndpoint, credentialsOf(identity, decoded.fingerprint), {
      name: 'e2e-https',
    });
    try {
      expect((await client.server()).trusted).toBe(false);
      expect(await redeemTrustToken(client, token)).toBe('added');
      trustedHere.push(identity.fingerprint);
      expect((await client.server()).trusted).toBe(true);
      expect(await lxc.trustedFingerprints()).toContain(identity.fingerprint);
    } finally {
      client.close();
    }
  });
});
