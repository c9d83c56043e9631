import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SwarmError, dockerClient, readLocalSwarmState, waitForDocker, type DockerClient } from '../../../src/swarm/index.js';
import { createBayPki, type BayPki } from '../../support/swarm/bay-pki.js';
import { startMutualTlsServer, type MutualTlsServer } from '../../support/swarm/tls-peers.js';

// The client's TLS wiring against real TLS peers on loopback. The server answers every request with
// the CN of the client certificate it accepted, so a ping returns who the server saw.
describe('the dockerd client over mutual TLS', () => {
  let bay: BayPki;
  let stranger: BayPki;
  let misnamed: BayPki;
  let server: MutualTlsServer;

  beforeAll(async () => {
    [bay, stranger, misnamed] = await Promise.all([
      createBayPki({ name: 'bay' }),
      createBayPki({ name: 'stranger' }),
      createBayPki({ name: 'misnamed', serverIps: ['10.9.9.9'], serverDnsNames: ['elsewhere'], includeLoopback: false }),
    ]);
    server = await startMutualTlsServer({ trust: bay.ca.certPem, identity: bay.server });
  });

  afterAll(async () => {
    await server.close();
  });

  function client(options: { port: number; pki?: BayPki; caPems?: string[] }): DockerClient {
    const pki = options.pki ?? bay;
    return dockerClient({
      address: '127.0.0.1',
      port: options.port,
      caPems: options.caPems ?? [pki.ca.certPem],
      certPem: pki.client.certPem,
      keyPem: pki.client.keyPem,
      timeoutMs: 5_000,
    });
  }

  async function callError(target: DockerClient): Promise<SwarmError> {
    return readLocalSwarmState(target).then(
      () => {
        throw new Error('expected the call to fail');
      },
      (error: SwarmError) => error,
    );
  }

  it('presents the operator certificate and trusts the bay CA', async () => {
    const answer = await client({ port: server.port }).docker.ping();
    expect(String(answer)).toBe('marina-operator');
  });

  it('refuses a server whose certificate does not name the address dialed', async () => {
    const wrongName = await startMutualTlsServer({ trust: misnamed.ca.certPem, identity: misnamed.server });
    try {
      const error = await callError(client({ port: wrongName.port, pki: misnamed }));
      expect(error).toBeInstanceOf(SwarmError);
      expect(error.code).toBe('tls');
      expect(error.message).toMatch(/^read-swarm-state on dockerd 127\.0\.0\.1:\d+: ERR_TLS_CERT_ALTNAME_INVALID/);
    } finally {
      await wrongName.close();
    }
  });

  it('refuses a server whose certificate comes from another CA', async () => {
    const error = await callError(client({ port: server.port, caPems: [stranger.ca.certPem] }));
    expect(error.code).toBe('tls');
  });

  it('is refused by dockerd when its certificate comes from another CA', async () => {
    const error = await callError(client({ port: server.port, pki: stranger, caPems: [bay.ca.certPem] }));
    expect(error.code).toBe('unreachable');
    expect(error.message).toContain("refusing marina's client certificate");
  });

  it('never holds the private key where logs or errors could show it', async () => {
    const target = client({ port: server.port, pki: stranger, caPems: [bay.ca.certPem] });
    const error = await callError(target);
    const keyLines = stranger.client.keyPem.split('\n').filter((line) => line.length > 40);
    const exposed = [inspect(target, { depth: 12, showHidden: true }), inspect(error, { depth: 12, showHidden: true })];
    for (const text of exposed) for (const line of keyLines) expect(text).not.toContain(line);
  });

  it('costs docker-modem one short line when it formats a request (it does, for every request, DEBUG or not)', async () => {
    const target = client({ port: server.port });
    await target.docker.ping();
    const { agent } = (target.docker as unknown as { modem: { agent: object } }).modem;
    // What docker-modem's buildRequest formats: the request options, the agent among them.
    const formatted = inspect({ path: '/_ping', method: 'GET', agent }, { showHidden: true, depth: null });
    expect(formatted).toContain(`[Agent: TLS to dockerd at 127.0.0.1:${server.port}]`);
    expect(formatted.length).toBeLessThan(200);
  });

  describe('with DOCKER_* variables in the environment', () => {
    const names = ['DOCKER_HOST', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY'] as const;
    afterEach(() => {
      for (const name of names) delete process.env[name];
    });

    it('ignores them: everything comes from its options', async () => {
      process.env.DOCKER_HOST = 'tcp://192.0.2.1:2376';
      process.env.DOCKER_CERT_PATH = '/nonexistent/certs';
      process.env.DOCKER_TLS_VERIFY = '1';
      const target = client({ port: server.port });
      expect(process.env.DOCKER_HOST).toBe('tcp://192.0.2.1:2376');
      expect(String(await target.docker.ping())).toBe('marina-operator');
    });
  });
});

describe('waiting for dockerd', () => {
  it('gives up at the deadline with a timeout naming the endpoint and the last failure', async () => {
    const port = await closedPort();
    const bay = await createBayPki({ name: 'wait' });
    const target = dockerClient({ address: '127.0.0.1', port, caPems: [bay.ca.certPem], certPem: bay.client.certPem, keyPem: bay.client.keyPem });
    const started = Date.now();
    const error = (await waitForDocker(target, new Date(started + 600), { intervalMs: 100 }).catch((e: unknown) => e)) as SwarmError;
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(SwarmError);
    expect(error.code).toBe('timeout');
    expect(error.message).toMatch(new RegExp(`^wait-for-docker on dockerd 127\\.0\\.0\\.1:${port}: no answer over TLS by .*ECONNREFUSED`));
  });
});

/** A loopback port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
