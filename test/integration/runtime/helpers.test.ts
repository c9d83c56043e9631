import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ApiError } from '../../../src/runtime/errors.js';
import { EVENT_TYPE, EventRecorder } from '../../../src/runtime/events.js';
import { addFinalizer, hasFinalizer, removeFinalizer } from '../../../src/runtime/finalizers.js';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import { LEASE_TYPE, type Lease } from '../../../src/runtime/lease.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import type { KubeObject } from '../../../src/runtime/resource.js';
import { CONFIG_MAP, CapturedLog, configMap, createNamespace, deleteNamespace, kubeConfigFrom, type ConfigMap } from '../../support/runtime/cluster.js';

const kubeconfigPath = inject('kubeconfigPath');
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface EventObject extends KubeObject {
  reason?: string;
  note?: string;
  eventTime?: string;
  reportingController?: string;
  series?: { count: number; lastObservedTime: string };
}

let client: KubeClient;
let namespace: string;

beforeAll(async () => {
  client = await KubeClient.fromKubeConfig(kubeConfigFrom(kubeconfigPath));
  namespace = await createNamespace(client, 'rt-helpers');
});

afterAll(async () => {
  await deleteNamespace(client, namespace);
  client.close();
});

describe('events', () => {
  it('a repeated event within the window raises the series count of one Event instead of creating more', async () => {
    const regarding = await client.create(CONFIG_MAP, configMap(namespace, 'noisy'));
    const recorder = new EventRecorder({ client, reportingController: 'test.marina.dev/events', reportingInstance: 'test-1', log: new CapturedLog().log, seriesWriteIntervalMs: 0 });
    const failure = { type: 'Warning', reason: 'HostUnreachable', action: 'Provision', note: 'metal-01 did not answer' } as const;
    await recorder.record(regarding, failure);
    await Promise.all([recorder.record(regarding, failure), recorder.record(regarding, failure)]);

    const events = (await client.list<EventObject>(EVENT_TYPE, { namespace })).items;
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ reason: 'HostUnreachable', reportingController: 'test.marina.dev/events', series: { count: 3 } });
    expect(events[0]?.eventTime).toMatch(MICRO_TIME);
    expect(events[0]?.series?.lastObservedTime).toMatch(MICRO_TIME);

    await recorder.record(regarding, { ...failure, note: 'metal-02 did not answer' });
    expect((await client.list<EventObject>(EVENT_TYPE, { namespace })).items).toHaveLength(2);
  });

  it('different Events about one object in the same millisecond are all kept (several nodes drifting at once)', async () => {
    const regarding = await client.create(CONFIG_MAP, configMap(namespace, 'many'));
    const recorder = new EventRecorder({ client, reportingController: 'test.marina.dev/events', reportingInstance: 'test-1', log: new CapturedLog().log });
    const notes = Array.from({ length: 8 }, (_, i) => `node ${i} drifted`);
    await Promise.all(notes.map((note) => recorder.record(regarding, { type: 'Normal', reason: 'NodeDrifted', action: 'Reconcile', note })));
    const stored = (await client.list<EventObject>(EVENT_TYPE, { namespace })).items.filter((e) => e.reason === 'NodeDrifted');
    expect(stored.map((e) => e.note).sort()).toEqual([...notes].sort());
  });

  it('a series repeated every moment writes its count at most once per interval, then the whole count', async () => {
    const regarding = await client.create(CONFIG_MAP, configMap(namespace, 'chatty'));
    const recorder = new EventRecorder({ client, reportingController: 'test.marina.dev/events', reportingInstance: 'test-1', log: new CapturedLog().log, seriesWriteIntervalMs: 1_000 });
    const repeat = { type: 'Warning', reason: 'Unschedulable', action: 'Place', note: 'no host has room' } as const;
    const stored = async (): Promise<EventObject | undefined> =>
      (await client.list<EventObject>(EVENT_TYPE, { namespace })).items.find((e) => e.reason === 'Unschedulable');
    for (let i = 0; i < 5; i++) await recorder.record(regarding, repeat);
    // The first repeat is written at once; the next three wait for the interval.
    expect((await stored())?.series?.count).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await recorder.record(regarding, repeat);
    expect((await stored())?.series?.count).toBe(6);
  });
});

describe('finalizers', () => {
  it('are added once and removed again', async () => {
    const created = await client.create(CONFIG_MAP, configMap(namespace, 'guarded'));
    const withFinalizer = await addFinalizer(client, CONFIG_MAP, created, 'test.marina.dev/cleanup');
    expect(withFinalizer.metadata.finalizers).toEqual(['test.marina.dev/cleanup']);
    expect(await addFinalizer(client, CONFIG_MAP, withFinalizer, 'test.marina.dev/cleanup')).toBe(withFinalizer);
    const removed = await removeFinalizer(client, CONFIG_MAP, withFinalizer, 'test.marina.dev/cleanup');
    expect(removed.metadata.finalizers).toBeUndefined();
  });

  it('a removal computed from a stale object is refused instead of removing someone else’s finalizer', async () => {
    const created = await client.create(CONFIG_MAP, configMap(namespace, 'shared'));
    const ours = await addFinalizer(client, CONFIG_MAP, created, 'test.marina.dev/ours');
    // Another controller puts its finalizer first: ours moves from index 0 to index 1.
    await client.patch(CONFIG_MAP, { namespace, name: 'shared' }, 'json', [{ op: 'add', path: '/metadata/finalizers/0', value: 'other.example/theirs' }]);

    const refused = await removeFinalizer(client, CONFIG_MAP, ours, 'test.marina.dev/ours').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect((refused as ApiError).code).toBe(422);
    const stored = await client.get<ConfigMap>(CONFIG_MAP, { namespace, name: 'shared' });
    expect(stored.metadata.finalizers).toEqual(['other.example/theirs', 'test.marina.dev/ours']);

    const fresh = await removeFinalizer(client, CONFIG_MAP, stored, 'test.marina.dev/ours');
    expect(fresh.metadata.finalizers).toEqual(['other.example/theirs']);
    await removeFinalizer(client, CONFIG_MAP, fresh, 'other.example/theirs');
  });

  it('an add computed from a stale object is refused', async () => {
    const created = await client.create(CONFIG_MAP, configMap(namespace, 'raced'));
    await client.patch(CONFIG_MAP, { namespace, name: 'raced' }, 'merge', { data: { touched: 'yes' } });
    const refused = await addFinalizer(client, CONFIG_MAP, created, 'test.marina.dev/ours').catch((err: unknown) => err);
    expect((refused as ApiError).code).toBe(422);
    expect(hasFinalizer(await client.get(CONFIG_MAP, { namespace, name: 'raced' }), 'test.marina.dev/ours')).toBe(false);
  });
});

describe('the manager’s health and metrics endpoints', () => {
  it('serves metrics pre-initialised for each controller, and healthz and readyz once caches synced and the lease is held', async () => {
    // An empty namespace: no reconcile runs, so every series must still read 0.
    const quiet = await createNamespace(client, 'rt-health');
    const leaseName = 'rt-health';
    const mgr = await Manager.create({
      kubeConfig: kubeConfigFrom(kubeconfigPath),
      log: new CapturedLog().log,
      metrics: new RuntimeMetrics(),
      healthServer: { host: '127.0.0.1', port: 0 },
      leaderElection: { leaseName, leaseNamespace: quiet, identity: 'health-test' },
    });
    mgr.addController({ name: 'probe', for: mgr.informer(CONFIG_MAP, { namespace: quiet }), maxConcurrentReconciles: 2, reconcile: async () => undefined });
    await mgr.start();
    try {
      const url = `http://127.0.0.1:${mgr.healthPort}`;
      await vi.waitFor(async () => expect((await fetch(`${url}/readyz`)).status).toBe(200), { timeout: 30_000, interval: 200 });
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      await vi.waitFor(async () => expect(await (await fetch(`${url}/metrics`)).text()).toContain('leader_election_master_status{name="' + leaseName + '"} 1'), {
        timeout: 30_000,
      });

      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const series of [
        'controller_runtime_reconcile_total{controller="probe",result="error"} 0',
        'controller_runtime_reconcile_errors_total{controller="probe"} 0',
        'controller_runtime_terminal_reconcile_errors_total{controller="probe"} 0',
        'controller_runtime_max_concurrent_reconciles{controller="probe"} 2',
        'controller_runtime_active_workers{controller="probe"} 0',
        'controller_runtime_reconcile_time_seconds_count{controller="probe"} 0',
        'workqueue_depth{name="probe"} 0',
        'workqueue_adds_total{name="probe"} 0',
        'workqueue_retries_total{name="probe"} 0',
        'workqueue_queue_duration_seconds_count{name="probe"} 0',
        'workqueue_work_duration_seconds_count{name="probe"} 0',
      ]) {
        expect(metrics).toContain(series);
      }
      
      expect(metrics).toMatch(/rest_client_requests_total\{code="200",method="GET",host="127\.0\.0\.1:\d+"\} [1-9]/);
    } finally {
      await mgr.stop();
    }
    const lease = await client.get<Lease>(LEASE_TYPE, { namespace: quiet, name: leaseName });
    expect(lease.spec?.holderIdentity).toBeUndefined();
    await deleteNamespace(client, quiet);
  });
});
