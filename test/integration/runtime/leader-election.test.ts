import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import { LEASE_TYPE, type Lease } from '../../../src/runtime/lease.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { formatMicroTime } from '../../../src/runtime/micro-time.js';
import { CONFIG_MAP, CapturedLog, configMap, createNamespace, deleteNamespace, kubeConfigFrom } from '../../support/runtime/cluster.js';
import { ReplicaProcess, type ReplicaEnv } from '../../support/runtime/replica-process.js';

const kubeconfigPath = inject('kubeconfigPath');
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let client: KubeClient;
let namespace: string;
let replicas: ReplicaProcess[] = [];

beforeAll(async () => {
  client = await KubeClient.fromKubeConfig(kubeConfigFrom(kubeconfigPath));
});

afterAll(() => client.close());

afterEach(async () => {
  for (const replica of replicas) replica.kill('SIGKILL');
  await Promise.all(replicas.map((r) => r.exited));
  replicas = [];
  await deleteNamespace(client, namespace);
});

async function startPair(leaseName: string): Promise<ReplicaEnv> {
  namespace = await createNamespace(client, 'rt-lease');
  const env: ReplicaEnv = {
    kubeconfigPath,
    leaseNamespace: namespace,
    leaseName,
    watchNamespace: namespace,
    leaseDurationMs: 10_000,
    renewDeadlineMs: 7_000,
    retryPeriodMs: 2_000,
  };
  replicas = [new ReplicaProcess('replica-a', env), new ReplicaProcess('replica-b', env)];
  return env;
}

async function leader(): Promise<{ leader: ReplicaProcess; standby: ReplicaProcess }> {
  const found = await vi.waitFor(
    () => {
      const leading = replicas.filter((r) => r.hasLogged('became leader'));
      if (leading.length !== 1) throw new Error(`waiting for one leader:\n${replicas.map((r) => r.describe()).join('\n')}`);
      return leading[0]!;
    },
    { timeout: 60_000, interval: 200 },
  );
  return { leader: found, standby: replicas.find((r) => r !== found)! };
}

const readLease = (name: string): Promise<Lease> => client.get<Lease>(LEASE_TYPE, { namespace, name });

describe('leader election between two replicas in separate processes', () => {
  it('exactly one replica reconciles, and the other takes over within 20 s after the leader is killed', async () => {
    await startPair('replicas');
    const { leader: first, standby } = await leader();
    for (const name of ['one', 'two', 'three']) await client.create(CONFIG_MAP, configMap(namespace, name));
    await vi.waitFor(() => expect(first.reconciled()).toEqual(expect.arrayContaining([`${namespace}/one`, `${namespace}/two`, `${namespace}/three`])), {
      timeout: 20_000,
    });
    await sleep(2_000);
    expect(standby.reconciled()).toEqual([]);

    const held = await readLease('replicas');
    expect(held.spec).toMatchObject({ holderIdentity: first.id, leaseDurationSeconds: 10, leaseTransitions: 0 });
    expect(held.spec?.acquireTime).toMatch(MICRO_TIME);
    expect(held.spec?.renewTime).toMatch(MICRO_TIME);

    first.kill('SIGKILL');
    const killedAt = Date.now();
    await first.exited;
    await client.create(CONFIG_MAP, configMap(namespace, 'after'));
    await vi.waitFor(() => expect(standby.reconciled()).toContain(`${namespace}/after`), { timeout: 25_000, interval: 100 });
    const takeoverMs = Date.now() - killedAt;
    console.log(`takeover after SIGKILL: ${takeoverMs} ms`);
    expect(takeoverMs).toBeLessThan(20_000);

    const taken = await readLease('replicas');
    expect(taken.spec).toMatchObject({ holderIdentity: standby.id, leaseTransitions: 1 });
  });

  it('a leader stopped with SIGTERM drains, releases the lease and exits 0, and the standby takes over at once', async () => {
    await startPair('graceful');
    const { leader: first, standby } = await leader();
    await vi.waitFor(async () => expect((await readLease('graceful')).spec?.holderIdentity).toBe(first.id), { timeout: 10_000 });
    // The standby has seen the lease held: without a release it would wait the full 10 s lease.
    await vi.waitFor(() => expect(standby.hasLogged('lease held by another replica; standing by')).toBe(true), { timeout: 30_000 });

    first.kill('SIGTERM');
    const stoppedAt = Date.now();
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.hasLogged('released the lease')).toBe(true);
    await vi.waitFor(() => expect(standby.hasLogged('became leader')).toBe(true), { timeout: 10_000, interval: 100 });
    const handoverMs = Date.now() - stoppedAt;
    console.log(`handover after SIGTERM: ${handoverMs} ms`);
    // Well under the 10 s lease: the standby did not wait for it to expire.
    expect(handoverMs).toBeLessThan(6_000);
  });

  it('a leader whose lease is taken from it stops reconciling, calls the loss hook and does not release the new holder’s lease', async () => {
    namespace = await createNamespace(client, 'rt-lease');
    let lost = false;
    const reconciled: string[] = [];
    const mgr = await Manager.create({
      kubeConfig: kubeConfigFrom(kubeconfigPath),
      log: new CapturedLog().log,
      metrics: new RuntimeMetrics(),
      leaderElection: { leaseName: 'stolen', leaseNamespace: namespace, identity: 'victim', leaseDurationMs: 4_000, renewDeadlineMs: 3_000, retryPeriodMs: 500 },
      onLeadershipLost: () => void (lost = true),
    });
    mgr.addController({ name: 'victim', for: mgr.informer(CONFIG_MAP, { namespace }), reconcile: async (req) => void reconciled.push(req.name) });
    await mgr.start();
    try {
      await vi.waitFor(() => expect(mgr.isLeader).toBe(true), { timeout: 10_000 });
      await client.create(CONFIG_MAP, configMap(namespace, 'before-loss'));
      await vi.waitFor(() => expect(reconciled).toContain('before-loss'), { timeout: 10_000 });

      const lease = await readLease('stolen');
      const stolen = { ...lease.spec, holderIdentity: 'thief', leaseDurationSeconds: 60, renewTime: formatMicroTime(Date.now()) };
      await client.replace(LEASE_TYPE, { ...lease, spec: stolen });
      await vi.waitFor(() => expect(lost).toBe(true), { timeout: 10_000, interval: 100 });
      expect(mgr.isLeader).toBe(false);

      await client.create(CONFIG_MAP, configMap(namespace, 'after-loss'));
      await sleep(1_500);
      expect(reconciled).not.toContain('after-loss');
    } finally {
      await mgr.stop();
    }
    expect((await readLease('stolen')).spec?.holderIdentity).toBe('thief');
  });
});
