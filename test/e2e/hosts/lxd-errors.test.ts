import { describe, expect, it } from 'vitest';

import { HostUnreachableError } from '../../../src/hosts/errors.js';
import { createHostProvider } from '../../../src/hosts/factory.js';
import { freePort } from '../../support/processes.js';
import { makeClientIdentity } from '../../support/lxd/index.js';

/** Errors say which host and what marina was doing, so a condition message needs no stack trace. */
describe('a host that does not answer', () => {
  it('over a unix socket that does not exist is unreachable, and the error names the host', async () => {
    const provider = createHostProvider('unix:///nonexistent/lxd/unix.socket', undefined, { name: 'ghost-01' });
    try {
      const failure = provider.getNode('web-0');
      await expect(failure).rejects.toBeInstanceOf(HostUnreachableError);
      await expect(failure).rejects.toThrow(/get-node of node web-0 on host ghost-01/);
    } finally {
      provider.close();
    }
  });

  it('over HTTPS on a port nobody listens on is unreachable', async () => {
    const identity = await makeClientIdentity('nobody-home');
    const port = await freePort();
    const provider = createHostProvider(
      `https://127.0.0.1:${port}`,
      { clientCertificate: identity.certificate, clientKey: identity.key, serverFingerprint: 'ab'.repeat(32) },
      { name: 'ghost-02' },
    );
    try {
      const failure = provider.listNodes({});
      await expect(failure).rejects.toBeInstanceOf(HostUnreachableError);
      await expect(failure).rejects.not.toThrow(/PRIVATE KEY/);
    } finally {
      provider.close();
    }
  });
});
