import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { setCondition } from '../../../src/runtime/conditions.js';
import { ApiError, TerminalError, isConflict } from '../../../src/runtime/errors.js';
import { EVENT_TYPE } from '../../../src/runtime/events.js';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import { Manager } from '../../../src/runtime/manager.js';
import { RuntimeMetrics } from '../../../src/runtime/metrics.js';
import { controllerReference, withOwnerReference } from '../../../src/runtime/owner-refs.js';
import type { ReconcileRequest } from '../../../src/runtime/reconcile.js';
import type { KubeObject } from '../../../src/runtime/resource.js';
import { patchStatus } from '../../../src/runtime/status.js';
import {
  CONFIG_MAP,
  CapturedLog,
  configMap,
  createNamespace,
  deleteNamespace,
  kubeConfigFrom,
  type ConfigMap,
} from '../../support/runtime/cluster.js';
import { WIDGET, installWidgetCrd, removeWidgetCrd, widget, type Widget } from '../../support/runtime/widget-crd.js';

const kubeconfigPath = inject('kubeconfigPath');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let client: KubeClient;
let namespace: string;
let manager: Manager | undefined;
let captured: CapturedLog;

beforeAll(async () => {
  client = await KubeClient.fromKubeConfig(kubeConfigFrom(kubeconfigPath));
  await installWidgetCrd(client);
});

afterAll(async () => {
  await removeWidgetCrd(client);
  client.close();
});

afterEach(async () => {
  await manager?.stop();
  manager = undefined;
  await deleteNamespace(client, namespace);
});

async function startManager(): Promise<Manager> {
  captured = new CapturedLog();
  namespace = await createNamespace(client, 'rt-ctrl');
  manager = await Manager.create({ kubeConfig: kubeConfigFrom(kubeconfigPath), log: captured.log, metrics: new RuntimeMetrics() });
  return manager;
}

async function metricValue(mgr: Manager, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await mgr.metrics.registry.getSingleMetric(name)?.get();
  const sample = metric?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value));
  return sample?.value ?? NaN;
}

describe('a controller on the real apiserver', () => {
  it('sees create, update and delete of its objects', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const seen: Array<string> = [];
    mgr.addController({
      name: 'lifecycle',
      for: configMaps,
      reconcile: async (req) => {
        seen.push(configMaps.get(req.key)?.data?.value ?? 'gone');
      },
    });
    await mgr.start();

    await client.create(CONFIG_MAP, configMap(namespace, 'cm', { value: 'v1' }));
    await vi.waitFor(() => expect(seen).toContain('v1'), { timeout: 15_000 });
    await client.patch(CONFIG_MAP, { namespace, name: 'cm' }, 'merge', { data: { value: 'v2' } });
    await vi.waitFor(() => expect(seen).toContain('v2'), { timeout: 15_000 });
    await client.delete(CONFIG_MAP, { namespace, name: 'cm' });
    await vi.waitFor(() => expect(seen.at(-1)).toBe('gone'), { timeout: 15_000 });
  });

  it('gives each reconcile its own child logger with a reconcile id', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    mgr.addController({
      name: 'logging',
      for: configMaps,
      reconcile: async (_req, ctx) => void ctx.log.info('reconciling'),
    });
    await mgr.start();
    await client.create(CONFIG_MAP, configMap(namespace, 'a'));
    await client.create(CONFIG_MAP, configMap(namespace, 'b'));
    await vi.waitFor(() => expect(captured.messages('reconciling')).toHaveLength(2), { timeout: 15_000 });
    const lines = captured.messages('reconciling');
    expect(lines.map((l) => [l.controller, l.namespace, l.name]).sort()).toEqual([
      ['logging', namespace, 'a'],
      ['logging', namespace, 'b'],
    ]);
    expect(new Set(lines.map((l) => l.reconcileID)).size).toBe(2);
  });

  it('writes status only when it changed, so its own status writes do not reconcile forever', async () => {
    const mgr = await startManager();
    const widgets = mgr.informer<Widget>(WIDGET, { namespace });
    let reconciles = 0;
    let writes = 0;
    mgr.addController({
      name: 'status',
      for: widgets,
      reconcile: async (req) => {
        reconciles++;
        const current = widgets.get(req.key);
        if (!current) return;
        const generation = current.metadata.generation ?? 0;
        const conditions = setCondition(
          current.status?.conditions,
          { type: 'Ready', status: 'True', reason: 'Reconciled', message: `size ${current.spec?.size}`, observedGeneration: generation },
          new Date(),
        );
        const written = await patchStatus(client, WIDGET, current, { phase: 'Ready', observedGeneration: generation, conditions });
        if (written) writes++;
      },
    });
    await mgr.start();

    await client.create(WIDGET, widget(namespace, 'w', 1));
    await vi.waitFor(() => expect(writes).toBe(1), { timeout: 15_000 });
    await sleep(3_000);
    const settled = reconciles;
    expect(settled).toBeLessThanOrEqual(3);
    await sleep(3_000);
    expect(reconciles).toBe(settled);
    const first = await client.get<Widget>(WIDGET, { namespace, name: 'w' });

    await client.patch(WIDGET, { namespace, name: 'w' }, 'merge', { spec: { size: 2 } });
    await vi.waitFor(() => expect(writes).toBe(2), { timeout: 15_000 });
    await sleep(3_000);
    expect(writes).toBe(2);
    const second = await client.get<Widget>(WIDGET, { namespace, name: 'w' });
    expect(second.status?.observedGeneration).toBe(2);
    const [before, after] = [first, second].map((w) => w.status?.conditions?.[0]);
    expect(after?.message).toBe('size 2');
    expect(after?.lastTransitionTime).toBe(before?.lastTransitionTime);
  });

  it('retries a reconcile whose update hit a conflict (409) until it succeeds', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const conflicts: ApiError[] = [];
    let raced = false;
    mgr.addController({
      name: 'conflict',
      for: configMaps,
      backoff: { baseMs: 50, maxMs: 1_000 },
      reconcile: async (req) => {
        const cached = configMaps.get(req.key);
        if (!cached || cached.data?.reconciled) return;
        if (!raced) {
          // Another writer changes the object between our read (the cache) and our write.
          raced = true;
          await client.patch(CONFIG_MAP, { namespace, name: req.name }, 'merge', { data: { other: 'writer' } });
        }
        try {
          await client.replace(CONFIG_MAP, { ...cached, data: { ...cached.data, reconciled: 'yes' } });
        } catch (err) {
          if (isConflict(err)) conflicts.push(err as ApiError);
          throw err;
        }
      },
    });
    await mgr.start();
    await client.create(CONFIG_MAP, configMap(namespace, 'contended'));

    await vi.waitFor(
      async () => {
        const stored = await client.get<ConfigMap>(CONFIG_MAP, { namespace, name: 'contended' });
        expect(stored.data).toEqual({ other: 'writer', reconciled: 'yes' });
      },
      { timeout: 20_000, interval: 200 },
    );
    expect(conflicts.length).toBeGreaterThanOrEqual(1);
    expect(conflicts[0]?.code).toBe(409);
    expect(await metricValue(mgr, 'controller_runtime_reconcile_errors_total', { controller: 'conflict' })).toBe(conflicts.length);
  });

  it('records a TerminalError as a Warning Event and through the hook, and does not retry it', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const hooked: Array<[string | undefined, string]> = [];
    let reconciles = 0;
    mgr.addController({
      name: 'terminal',
      for: configMaps,
      backoff: { baseMs: 10, maxMs: 100 },
      events: mgr.eventRecorder('test.marina.dev/terminal'),
      onTerminalError: async (obj, err) => void hooked.push([obj?.metadata.name, err.reason]),
      reconcile: async () => {
        reconciles++;
        throw new TerminalError('InvalidConfig', 'the value must be a number');
      },
    });
    await mgr.start();
    await client.create(CONFIG_MAP, configMap(namespace, 'bad', { value: 'x' }));

    await vi.waitFor(() => expect(hooked).toEqual([['bad', 'InvalidConfig']]), { timeout: 15_000 });
    await sleep(2_000);
    expect(reconciles).toBe(1);
    expect(await metricValue(mgr, 'controller_runtime_terminal_reconcile_errors_total', { controller: 'terminal' })).toBe(1);
    const events = await client.list<KubeObject & { reason?: string; type?: string; note?: string; regarding?: { name?: string } }>(EVENT_TYPE, { namespace });
    expect(events.items.map((e) => [e.type, e.reason, e.regarding?.name, e.note])).toEqual([
      ['Warning', 'InvalidConfig', 'bad', 'the value must be a number'],
    ]);
  });

  it('ends a reconcile quietly when the object is not found', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    let reconciles = 0;
    mgr.addController({
      name: 'notfound',
      for: configMaps,
      backoff: { baseMs: 10, maxMs: 100 },
      reconcile: async (req) => {
        reconciles++;
        await client.get(CONFIG_MAP, { namespace: req.namespace, name: `${req.name}-missing` });
      },
    });
    await mgr.start();
    await client.create(CONFIG_MAP, configMap(namespace, 'lonely'));
    await vi.waitFor(() => expect(reconciles).toBe(1), { timeout: 15_000 });
    await sleep(1_500);
    expect(reconciles).toBe(1);
    expect(await metricValue(mgr, 'controller_runtime_reconcile_total', { controller: 'notfound', result: 'success' })).toBe(1);
    expect(captured.lines.filter((l) => l.level === 'error')).toEqual([]);
  });

  it('requeues after the delay a reconcile asked for', async () => {
    const mgr = await startManager();
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const at: number[] = [];
    mgr.addController({
      name: 'timed',
      for: configMaps,
      reconcile: async () => {
        at.push(Date.now());
        return at.length < 3 ? { requeueAfter: 1_000 } : undefined;
      },
    });
    await mgr.start();
    await client.create(CONFIG_MAP, configMap(namespace, 'timer'));
    await vi.waitFor(() => expect(at).toHaveLength(3), { timeout: 15_000 });
    await sleep(1_500);
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(950);
    expect(await metricValue(mgr, 'controller_runtime_reconcile_total', { controller: 'timed', result: 'requeue_after' })).toBe(2);
  });

  it('reconciles the owner when an object it owns changes, and maps related objects with a custom mapper', async () => {
    const mgr = await startManager();
    const widgets = mgr.informer<Widget>(WIDGET, { namespace });
    const configMaps = mgr.informer<ConfigMap>(CONFIG_MAP, { namespace });
    const requests: ReconcileRequest[] = [];
    mgr.addController({
      name: 'owner',
      for: widgets,
      owns: [configMaps],
      watches: [{ informer: configMaps, map: (obj) => (obj.metadata.labels?.widget ? [`${namespace}/${obj.metadata.labels.widget}`] : []) }],
      reconcile: async (req) => void requests.push(req),
    });
    await mgr.start();
    const owner = await client.create(WIDGET, widget(namespace, 'parent'));
    await vi.waitFor(() => expect(requests.map((r) => r.name)).toContain('parent'), { timeout: 15_000 });

    requests.length = 0;
    await client.create(CONFIG_MAP, withOwnerReference(configMap(namespace, 'child'), controllerReference(owner, WIDGET)));
    await vi.waitFor(() => expect(requests).toContainEqual({ key: `${namespace}/parent`, namespace, name: 'parent' }), { timeout: 15_000 });

    requests.length = 0;
    await client.create(CONFIG_MAP, { ...configMap(namespace, 'labelled'), metadata: { namespace, name: 'labelled', labels: { widget: 'other' } } });
    await vi.waitFor(() => expect(requests.map((r) => r.key)).toContain(`${namespace}/other`), { timeout: 15_000 });
    expect(requests.map((r) => r.name)).not.toContain('labelled');
  });
});
