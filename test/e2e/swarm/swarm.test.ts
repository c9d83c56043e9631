import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { HostProvider } from '../../../src/hosts/provider.js';
import {
  caBundle,
  createCertificateAuthority,
  issueClientCertificate,
  issueServerCertificate,
  type CertificateAuthority,
  type IssuedCertificate,
} from '../../../src/pki/index.js';
import {
  SwarmError,
  applyDockerdTls,
  bindNode,
  demote,
  drainNode,
  initSwarm,
  joinSwarm,
  joinTokens,
  listSwarmNodes,
  promote,
  readLocalSwarmState,
  removeNode,
  rotateSwarmCa,
  setAvailability,
  swarmCaRotationDone,
  updateNodeSpec,
  usage,
  waitForDocker,
  type DockerClient,
  type SwarmNode,
} from '../../../src/swarm/index.js';
import {
  lxcFor,
  lxdTestHost,
  providerOver,
  sweepStaleNodes,
  testBay,
  testNodeImage,
  trustedTestIdentity,
  TEST_FLAVOR,
  type LxcCli,
} from '../../support/lxd/index.js';
import { waitFor } from '../../support/processes.js';
import { ONE_DAY_MS } from '../../support/swarm/bay-pki.js';
import {
  SLEEP_IMAGE,
  bootNodes,
  importSleepImage,
  operatorClient,
  removeBayNodes,
  servedCertificateSerial,
  timed,
  type BootedNode,
} from '../../support/swarm/swarm-nodes.js';
import { httpsGet } from '../../support/swarm/tls-peers.js';
import { NODE_TLS_REFUSAL } from '../../support/tls-refusal.js';

/**
 * src/swarm against the real thing: two LXD nodes from the marina node image, dockerd behind mutual
 * TLS with certificates from src/pki, and a real Swarm. The tests run in order on the same two nodes
 * (creating nodes is the expensive part); each still asserts one behaviour.
 */
describe('a two-node swarm over mutual TLS', () => {
  const bay = testBay('swarm');
  const timings = new Map<string, number>();
  let provider: HostProvider;
  let lxc: LxcCli;
  let ca: CertificateAuthority;
  let operator: IssuedCertificate;
  let manager: BootedNode;
  let worker: BootedNode;
  let managerClient: DockerClient;
  let workerClient: DockerClient;
  let managerId: string;
  let workerId: string;

  const serverCertificate = (issuer: CertificateAuthority, node: BootedNode) =>
    issueServerCertificate(issuer, { commonName: node.name, ipAddresses: [node.address], dnsNames: [node.name], validityMs: ONE_DAY_MS });

  beforeAll(async () => {
    const host = await lxdTestHost();
    const identity = await trustedTestIdentity(host);
    const image = (await testNodeImage(host)).alias;
    provider = providerOver('unix socket', host, identity);
    lxc = lxcFor(host);
    await sweepStaleNodes(lxc);
    ca = await timed('create CA (RSA 2048)', timings, () => createCertificateAuthority({ commonName: `${bay.bayName} CA`, validityMs: 30 * ONE_DAY_MS }));
    operator = await timed('issue client certificate', timings, () => issueClientCertificate(ca, { identity: 'marina-operator', validityMs: ONE_DAY_MS }));
    [manager, worker] = (await timed('boot 2 nodes', timings, () => bootNodes(provider, host, image, bay, 2))) as [BootedNode, BootedNode];
    managerClient = operatorClient(manager.address, [ca.certPem], operator);
    workerClient = operatorClient(worker.address, [ca.certPem], operator);
  });

  afterAll(async () => {
    console.info(`[swarm e2e] timings (ms): ${JSON.stringify(Object.fromEntries(timings))}`);
    // Whatever happened above: every node this suite may have created goes.
    if (lxc) await removeBayNodes(lxc, bay.bayUid);
    provider?.close();
  });

  it('dockerd answers over TLS once its certificates, daemon.json and unit drop-in are in place', async () => {
    const versions = await timed('configure dockerd TLS on 2 nodes (push, restart, wait)', timings, () =>
      Promise.all(
        [
          [manager, managerClient],
          [worker, workerClient],
        ].map(async ([node, client]) => {
          const server = await serverCertificate(ca, node as BootedNode);
          const material = { caPems: [ca.certPem], certPem: server.certPem, keyPem: server.keyPem };
          return applyDockerdTls(bindNode(provider, (node as BootedNode).name), client as DockerClient, material, new Date(Date.now() + 90_000));
        }),
      ),
    );
    for (const version of versions) expect(version.apiVersion).toMatch(/^1\.\d+$/);
    const inside = await lxc.exec(manager.name, ['cat', '/etc/docker/server-key.pem']);
    expect(inside.stdout).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const mode = await lxc.exec(manager.name, ['stat', '-c', '%a', '/etc/docker/server-key.pem']);
    expect(mode.stdout.trim()).toBe('600');
  });

  it('the TLS endpoint answers a client with the operator certificate', async () => {
    const outcome = await httpsGet({ host: manager.address, port: 2376, path: '/_ping', trust: ca.certPem, identity: operator });
    expect(outcome).toEqual({ ok: true, body: 'OK' });
  });

  it('the TLS endpoint refuses a client without a certificate in the handshake', async () => {
    const outcome = await httpsGet({ host: manager.address, port: 2376, path: '/_ping', trust: ca.certPem });
    expect(outcome).toEqual({ ok: false, error: expect.stringMatching(NODE_TLS_REFUSAL.noClientCertificate) });
  });

  it("the TLS endpoint refuses a client certificate of another CA, and another CA's clients refuse it", async () => {
    const strangerCa = await createCertificateAuthority({ commonName: 'stranger CA' });
    const stranger = await issueClientCertificate(strangerCa, { identity: 'stranger', validityMs: ONE_DAY_MS });
    const refused = await httpsGet({ host: manager.address, port: 2376, path: '/_ping', trust: ca.certPem, identity: stranger });
    expect(refused).toEqual({ ok: false, error: expect.stringMatching(NODE_TLS_REFUSAL.clientCertificateOfAnotherCa) });
    const distrusted = await readLocalSwarmState(operatorClient(manager.address, [strangerCa.certPem], operator)).catch((error: unknown) => error);
    expect(distrusted).toBeInstanceOf(SwarmError);
    expect((distrusted as SwarmError).code).toBe('tls');
    const cause = (distrusted as SwarmError).cause as { code?: string };
    expect(cause.code).toMatch(NODE_TLS_REFUSAL.serverCertificateOfAnotherCa);
  });

  it('swarm init makes the first node a manager, and doing it again changes nothing', async () => {
    const first = await timed('swarm init', timings, () => initSwarm(managerClient, manager.address));
    expect(first).toMatchObject({ isManager: true, changed: true });
    expect(first.clusterId).toBeTruthy();
    const again = await initSwarm(managerClient, manager.address);
    expect(again).toEqual({ ...first, changed: false });
    managerId = first.nodeId;
  });

  it('the second node joins as a worker with the token read from the manager, idempotently', async () => {
    const tokens = await joinTokens(managerClient);
    expect(tokens.worker).toMatch(/^SWMTKN-1-/);
    const request = { advertiseAddr: worker.address, remoteAddrs: [manager.address], token: tokens.worker };
    const joined = await timed('swarm join (worker)', timings, () => joinSwarm(workerClient, request));
    expect(joined).toMatchObject({ isManager: false, changed: true });
    expect(await joinSwarm(workerClient, request)).toEqual({ ...joined, changed: false });
    workerId = joined.nodeId;
  });

  it('listing the nodes shows two ready nodes: a leading manager and a worker, at their addresses', async () => {
    const nodes = await waitFor('two ready nodes', async () => {
      const listed = await listSwarmNodes(managerClient);
      return listed.length === 2 && listed.every((node) => node.state === 'ready') ? listed : undefined;
    }, 60_000, 500);
    expect(nodes.map(summary)).toEqual([
      { id: managerId, hostname: manager.name, role: 'manager', availability: 'active', state: 'ready', managerReachability: 'reachable', leader: true, addr: manager.address },
      { id: workerId, hostname: worker.name, role: 'worker', availability: 'active', state: 'ready', managerReachability: undefined, leader: false, addr: worker.address },
    ]);
    for (const node of nodes) expect(node.nanoCpus).toBe(TEST_FLAVOR.cpu * 1e9);
  });

  it('a member asked to join a swarm managed elsewhere gets an other-swarm error', async () => {
    const tokens = await joinTokens(managerClient);
    const elsewhere = { advertiseAddr: worker.address, remoteAddrs: ['192.0.2.10'], token: tokens.worker };
    const error = (await joinSwarm(workerClient, elsewhere).catch((e: unknown) => e)) as SwarmError;
    expect(error).toBeInstanceOf(SwarmError);
    expect(error.code).toBe('other-swarm');
    expect(error.message).toContain(worker.address);
    expect(error.message).not.toContain(tokens.worker);
  });

  it('draining and reactivating a node keeps the rest of its spec', async () => {
    await updateNodeSpec(managerClient, workerId, 'label', (spec) => ({ ...spec, Labels: { ...spec.Labels, 'marina.dev/index': '1' } }));
    expect(await setAvailability(managerClient, workerId, 'drain')).toBe(true);
    expect(await setAvailability(managerClient, workerId, 'drain')).toBe(false);
    expect((await nodeById(managerClient, workerId)).availability).toBe('drain');

    expect(await setAvailability(managerClient, workerId, 'active')).toBe(true);
    const inspected = (await managerClient.docker.getNode(workerId).inspect()) as { Spec: { Labels: Record<string, string>; Availability: string } };
    expect(inspected.Spec).toMatchObject({ Availability: 'active', Labels: { 'marina.dev/index': '1' } });
  });

  it('a worker is promoted to a reachable manager and demoted back; the last manager cannot be demoted', async () => {
    expect(await timed('promote worker', timings, () => promote(managerClient, workerId))).toBe(true);
    const promoted = await waitFor('second manager reachable', async () => {
      const node = await nodeById(managerClient, workerId);
      return node.managerReachability === 'reachable' ? node : undefined;
    }, 60_000, 500);
    expect(promoted).toMatchObject({ role: 'manager', leader: false });

    expect(await demote(managerClient, workerId)).toBe(true);
    const demoted = await waitFor('worker again', async () => {
      const node = await nodeById(managerClient, workerId);
      return node.managerReachability === undefined ? node : undefined;
    }, 60_000, 500);
    expect(demoted.role).toBe('worker');
    const error = (await demote(managerClient, managerId).catch((e: unknown) => e)) as SwarmError;
    expect(error.code).toBe('quorum');
  });

  it('usage sums the reservations of running tasks against the nodes', async () => {
    await Promise.all([manager, worker].map((node) => importSleepImage(lxc, node.name)));
    await managerClient.docker.createService({
      Name: 'reserved',
      TaskTemplate: {
        ContainerSpec: { Image: SLEEP_IMAGE },
        Resources: { Reservations: { NanoCPUs: 250_000_000, MemoryBytes: 32 * 1024 ** 2 } },
      },
      Mode: { Replicated: { Replicas: 2 } },
    });
    const result = await timed('service with 2 reserved tasks running', timings, () =>
      waitFor('2 running tasks', async () => {
        const current = await usage(managerClient);
        return current.nodes.reduce((n, node) => n + node.tasks, 0) === 2 ? current : undefined;
      }, 120_000, 1_000),
    );
    expect(result.reserved).toEqual({ nanoCpus: 500_000_000, memoryBytes: 64 * 1024 ** 2 });
    expect(result.capacity.nanoCpus).toBe(2e9);
    expect(result.cpuPercent).toBe(25);
    expect(result.waiting.tasks).toBe(0);
  });

  it('usage reports a task that fits on no node as waiting', async () => {
    await managerClient.docker.createService({
      Name: 'too-big',
      TaskTemplate: { ContainerSpec: { Image: SLEEP_IMAGE }, Resources: { Reservations: { NanoCPUs: 4e9 } } },
      Mode: { Replicated: { Replicas: 1 } },
    });
    const result = await waitFor('a waiting task', async () => {
      const current = await usage(managerClient);
      return current.waiting.tasks === 1 ? current : undefined;
    }, 60_000, 1_000);
    expect(result.waiting.reserved.nanoCpus).toBe(4e9);
  });

  it('a dockerd restart with a server certificate of a new CA keeps the node in the swarm, and both CAs are trusted meanwhile', async () => {
    const nextCa = await createCertificateAuthority({ commonName: `${bay.bayName} next CA` });
    const bothCas = caBundle([ca.certPem, nextCa.certPem]);
    const server = await serverCertificate(nextCa, worker);
    const overlapClient = operatorClient(worker.address, [bothCas], operator);

    await timed('drain worker (its task moves to the manager)', timings, () => drainNode(managerClient, workerId, new Date(Date.now() + 60_000)));
    const drained = await usage(managerClient);
    expect(drained.nodes.find((node) => node.nodeId === workerId)).toMatchObject({ schedulable: false, tasks: 0 });
    await timed('restart worker dockerd with new certificate', timings, () =>
      applyDockerdTls(bindNode(provider, worker.name), overlapClient, { caPems: [bothCas], certPem: server.certPem, keyPem: server.keyPem }, new Date(Date.now() + 90_000)),
    );
    await setAvailability(managerClient, workerId, 'active');

    expect(await servedCertificateSerial(worker.address, 2376, [bothCas], operator)).toBe(server.serial);
    const nextClient = await issueClientCertificate(nextCa, { identity: 'next-operator', validityMs: ONE_DAY_MS });
    for (const identity of [operator, nextClient]) {
      expect(await httpsGet({ host: worker.address, port: 2376, path: '/_ping', trust: bothCas, identity })).toEqual({ ok: true, body: 'OK' });
    }
    // A client that trusts only the old CA refuses the new server certificate itself.
    const oldTrust = { host: worker.address, port: 2376, path: '/_ping', trust: ca.certPem, identity: operator };
    expect(await httpsGet(oldTrust)).toEqual({
      ok: false,
      error: expect.stringMatching(NODE_TLS_REFUSAL.serverCertificateOfAnotherCa),
    });

    const state = await readLocalSwarmState(overlapClient);
    expect(state).toMatchObject({ state: 'active', nodeId: workerId });
    const back = await waitFor('worker ready again', async () => {
      const node = await nodeById(managerClient, workerId);
      return node.state === 'ready' ? node : undefined;
    }, 60_000, 500);
    expect(back.availability).toBe('active');
  });

  it('the only manager comes back from a dockerd restart still leading the same swarm', async () => {
    const server = await serverCertificate(ca, manager);
    const before = await readLocalSwarmState(managerClient);
    await timed('restart manager dockerd', timings, () =>
      applyDockerdTls(bindNode(provider, manager.name), managerClient, { caPems: [ca.certPem], certPem: server.certPem, keyPem: server.keyPem }, new Date(Date.now() + 90_000)),
    );
    const nodes = await waitFor('both nodes ready after the manager restart', async () => {
      const listed = await listSwarmNodes(managerClient).catch(() => undefined);
      return listed?.every((node) => node.state === 'ready') && listed.length === 2 ? listed : undefined;
    }, 90_000, 1_000);
    expect((await readLocalSwarmState(managerClient)).clusterId).toBe(before.clusterId);
    expect(nodes.find((node) => node.id === managerId)?.leader).toBe(true);
  });

  it("rotating the swarm's own CA converges on every node and changes the join tokens", async () => {
    const tokensBefore = await joinTokens(managerClient);
    const forceRotate = await rotateSwarmCa(managerClient);
    expect(forceRotate).toBeGreaterThanOrEqual(1);
    const status = await timed('swarm CA rotation converged', timings, () =>
      waitFor('swarm CA rotation', async () => {
        const current = await swarmCaRotationDone(managerClient);
        return current.done ? current : undefined;
      }, 180_000, 1_000),
    );
    expect(status).toEqual({ done: true, inProgress: false, lagging: [] });
    const tokensAfter = await joinTokens(managerClient);
    expect(tokensAfter.worker).not.toBe(tokensBefore.worker);
  });

  it('removing a node that is still up is refused', async () => {
    const error = (await removeNode(managerClient, workerId).catch((e: unknown) => e)) as SwarmError;
    expect(error).toBeInstanceOf(SwarmError);
    expect(error.code).toBe('invalid-state');
    expect((await listSwarmNodes(managerClient)).map((node) => node.id)).toContain(workerId);
  });

  it('a node that is gone is removed from the swarm membership', async () => {
    await lxc.stop(worker.name, { force: true });
    await timed('swarm notices a stopped node', timings, () =>
      waitFor('worker down', async () => ((await nodeById(managerClient, workerId)).state === 'down' ? true : undefined), 120_000, 1_000),
    );
    expect(await removeNode(managerClient, workerId)).toBe(true);
    expect(await removeNode(managerClient, workerId)).toBe(false);
    expect((await listSwarmNodes(managerClient)).map((node) => node.id)).toEqual([managerId]);
  });

  it('waiting for a dockerd that is gone ends at the deadline with the endpoint named', async () => {
    const error = (await waitForDocker(workerClient, new Date(Date.now() + 3_000)).catch((e: unknown) => e)) as SwarmError;
    expect(error.code).toBe('timeout');
    expect(error.message).toContain(`${worker.address}:2376`);
  });
});

function summary(node: SwarmNode) {
  const { id, hostname, role, availability, state, managerReachability, leader, addr } = node;
  return { id, hostname, role, availability, state, managerReachability, leader, addr };
}

async function nodeById(manager: DockerClient, id: string): Promise<SwarmNode> {
  const node = (await listSwarmNodes(manager)).find((candidate) => candidate.id === id);
  if (node === undefined) throw new Error(`node ${id} is not in the swarm`);
  return node;
}
