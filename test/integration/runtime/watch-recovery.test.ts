import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Informer } from '../../../src/runtime/informer.js';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import type { ReflectorTuning } from '../../../src/runtime/reflector.js';
import { startKubeEnv, type KubeEnv } from '../../support/kube-env.js';
import { CONFIG_MAP, CapturedLog, configMap, createNamespace, kubeConfigFrom, type ConfigMap } from '../../support/runtime/cluster.js';
import { EventLog } from '../../support/runtime/event-log.js';
import { TcpProxy } from '../../support/runtime/tcp-proxy.js';

// This file restarts the apiserver and compacts etcd, so it runs its own environment.
let env: KubeEnv;
let proxy: TcpProxy;
let admin: KubeClient;
const informers: Informer<ConfigMap>[] = [];

const FAST_RECONNECT: ReflectorTuning = { reconnectBackoff: { baseMs: 100, maxMs: 1_000 } };

beforeAll(async () => {
  env = await startKubeEnv({ installCrds: false });
  proxy = await TcpProxy.start(env.server);
  admin = await KubeClient.fromKubeConfig(env.kubeConfig());
});

afterAll(async () => {
  await Promise.all(informers.map((i) => i.stop()));
  admin?.close();
  await proxy?.stop();
  await env?.stop();
});

/** An informer on one namespace whose connection to the apiserver goes through the proxy (or not). */
async function watchNamespace(namespace: string, via: 'proxy' | 'direct', tuning: ReflectorTuning = FAST_RECONNECT) {
  const client = await KubeClient.fromKubeConfig(kubeConfigFrom(env.kubeconfigPath, via === 'proxy' ? proxy.url : undefined));
  const informer = new Informer<ConfigMap>({ client, resource: CONFIG_MAP, namespace, log: new CapturedLog().log, tuning });
  const seen = new EventLog();
  informer.addEventHandler(seen.handler);
  informer.start();
  informers.push(informer);
  expect(await informer.waitForSync()).toBe(true);
  return { informer, seen };
}

/** The informer's cache agrees with a fresh list: same keys at the same resourceVersions. */
async function expectCacheMatchesApiserver(informer: Informer<ConfigMap>, namespace: string): Promise<void> {
  await vi.waitFor(
    async () => {
      const listed = (await admin.list<ConfigMap>(CONFIG_MAP, { namespace })).items;
      const view = (objs: ConfigMap[]): string[] => objs.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion}`).sort();
      expect(view(informer.list())).toEqual(view(listed));
    },
    { timeout: 30_000, interval: 250 },
  );
}

function expectNoDuplicates(seen: EventLog): void {
  const changes = seen.events.map((e) => `${e.type}:${e.name}@${e.resourceVersion}`);
  expect(changes.length).toBe(new Set(changes).size);
}

describe('a watch broken mid-stream', () => {
  it('resumes after the connection is cut, without losing or duplicating an event', async () => {
    const namespace = await createNamespace(admin, 'rt-cut');
    await admin.create(CONFIG_MAP, configMap(namespace, 'counter', { n: '0' }));
    const { informer, seen } = await watchNamespace(namespace, 'proxy');

    const updates = 120;
    let watchesAtCut = 0;
    for (let n = 1; n <= updates; n++) {
      await admin.patch(CONFIG_MAP, { namespace, name: 'counter' }, 'merge', { data: { n: String(n) } });
      if (n % 30 === 0) {
        watchesAtCut = informer.stats.watches;
        proxy.cut(); // while the last updates are still on their way; the next ten land while disconnected
      }
      if (n % 30 === 10) {
        // Every cut must break a live watch, so wait for the reconnect before the next one.
        await vi.waitFor(() => expect(informer.stats.watches).toBeGreaterThan(watchesAtCut), { timeout: 15_000 });
      }
      if (n === 50) await admin.create(CONFIG_MAP, configMap(namespace, 'born-mid-stream'));
      if (n === 90) await admin.delete(CONFIG_MAP, { namespace, name: 'born-mid-stream' });
    }

    await vi.waitFor(() => expect(informer.get(`${namespace}/counter`)?.data?.n).toBe(String(updates)), { timeout: 30_000 });
    const counted = seen.of('counter').filter((e) => e.type === 'update').map((e) => Number(e.data.n));
    expect(counted).toEqual(Array.from({ length: updates }, (_, i) => i + 1));
    expect(seen.of('born-mid-stream').map((e) => e.type)).toEqual(['add', 'delete']);
    expectNoDuplicates(seen);
    expect(informer.stats.lists).toBe(1); // resumed from the resourceVersion each time: never relisted
    // The last cut comes after the last update, so its reconnect may still be on its way.
    await vi.waitFor(() => expect(informer.stats.watches).toBeGreaterThanOrEqual(5), { timeout: 15_000 });
    await expectCacheMatchesApiserver(informer, namespace);
  });

  it('recovers when the apiserver restarts, and its cache ends equal to the apiserver’s', async () => {
    const namespace = await createNamespace(admin, 'rt-restart');
    for (const name of ['a', 'b', 'c']) await admin.create(CONFIG_MAP, configMap(namespace, name, { v: '1' }));
    const { informer, seen } = await watchNamespace(namespace, 'direct');
    await admin.patch(CONFIG_MAP, { namespace, name: 'a' }, 'merge', { data: { v: '2' } });

    await env.restartApiserver();
    await admin.patch(CONFIG_MAP, { namespace, name: 'a' }, 'merge', { data: { v: '3' } });
    await admin.delete(CONFIG_MAP, { namespace, name: 'b' });
    await admin.create(CONFIG_MAP, configMap(namespace, 'd', { v: '1' }));

    await expectCacheMatchesApiserver(informer, namespace);
    expect(seen.of('a').at(-1)?.data.v).toBe('3');
    expect(seen.of('b').map((e) => e.type)).toEqual(['add', 'delete']);
    expect(seen.of('d').map((e) => e.type)).toEqual(['add']);
    expect(seen.of('c').map((e) => e.type)).toEqual(['add']);
    expectNoDuplicates(seen);
    expect(informer.stats.watches).toBeGreaterThanOrEqual(2);
  });
});

describe('a watch that goes silent', () => {
  it('is cut by the watchdog, fails /healthz while stalled, and catches up once the network is back', async () => {
    const namespace = await createNamespace(admin, 'rt-stall');
    const stallTimeoutMs = 2_000;
    const mgr = await Manager.create({
      kubeConfig: kubeConfigFrom(env.kubeconfigPath, proxy.url),
      log: new CapturedLog().log,
      metrics: new RuntimeMetrics(),
      healthServer: { host: '127.0.0.1', port: 0 },
      informerTuning: { ...FAST_RECONNECT, stallTimeoutMs },
    });
    const informer = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const seen = new EventLog();
    informer.addEventHandler(seen.handler);
    await mgr.start();
    const healthz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${mgr.healthPort}/healthz`)).status;
    try {
      await vi.waitFor(() => expect(informer.hasSynced()).toBe(true), { timeout: 15_000 });
      expect(await healthz()).toBe(200);

      proxy.setMode('freeze');
      await admin.create(CONFIG_MAP, configMap(namespace, 'while-frozen'));
      await vi.waitFor(async () => expect(await healthz()).toBe(503), { timeout: 15_000, interval: 200 });
      expect(informer.stats.stalls).toBeGreaterThanOrEqual(1);
      expect(informer.get(`${namespace}/while-frozen`)).toBeUndefined();

      proxy.setMode('forward');
      await vi.waitFor(() => expect(informer.get(`${namespace}/while-frozen`)).toBeDefined(), { timeout: 15_000 });
      await vi.waitFor(async () => expect(await healthz()).toBe(200), { timeout: 15_000, interval: 200 });
      expect(seen.of('while-frozen').map((e) => e.type)).toEqual(['add']);
    } finally {
      proxy.setMode('forward');
      await mgr.stop();
    }
  });
});

describe('a resourceVersion that expired while the watch was away (410 Gone)', () => {
  it('relists and reports the deletes that happened while disconnected', async () => {
    const namespace = await createNamespace(admin, 'rt-gone');
    for (const name of ['kept', 'doomed-1', 'doomed-2']) await admin.create(CONFIG_MAP, configMap(namespace, name));
    const { informer, seen } = await watchNamespace(namespace, 'proxy');

    proxy.setMode('refuse');
    await admin.delete(CONFIG_MAP, { namespace, name: 'doomed-1' });
    await admin.delete(CONFIG_MAP, { namespace, name: 'doomed-2' });
    await admin.create(CONFIG_MAP, configMap(namespace, 'newcomer'));
    await admin.patch(CONFIG_MAP, { namespace, name: 'kept' }, 'merge', { data: { changed: 'yes' } });
    // Compacting etcd and restarting the apiserver (a fresh watch cache) leaves the informer's
    // resourceVersion older than anything the apiserver can still serve.
    await env.compactEtcd();
    await env.restartApiserver();
    proxy.setMode('forward');

    await expectCacheMatchesApiserver(informer, namespace);
    expect(informer.stats.relistsAfterGone).toBeGreaterThanOrEqual(1);
    expect(seen.of('doomed-1').map((e) => e.type)).toEqual(['add', 'delete']);
    expect(seen.of('doomed-2').map((e) => e.type)).toEqual(['add', 'delete']);
    expect(seen.of('newcomer').map((e) => e.type)).toEqual(['add']);
    expect(seen.of('kept').map((e) => e.type)).toEqual(['add', 'update']);
    expect(seen.of('kept').at(-1)?.data).toEqual({ changed: 'yes' });
    expectNoDuplicates(seen);
  });
});
