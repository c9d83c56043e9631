/**
 * Drives N ConfigMaps (default 1,000) through one controller of the marina runtime against a real
 * kube-apiserver started by the test harness, in two phases:
 *
 *   sync     the objects exist before the manager starts: time to sync the cache, then time until
 *            every object is reconciled (the reconciler marks it with one merge patch);
 *   updates  every object is changed by another client: time until every change is reconciled.
 *
 *   npx tsx bench/controller-throughput.ts [--objects 1000] [--workers 4]
 *
 * Prints a table (reconciles/s, time to sync, RSS/heap, API requests per object counted by the
 * runtime's rest_client_requests_total) and writes bench/results/controller-throughput.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { KubeClient } from '../src/runtime/kube-client.js';
import { createLogger } from '../src/runtime/logger.js';
import { Manager } from '../src/runtime/manager.js';
import { RuntimeMetrics } from '../src/runtime/metrics.js';
import type { KubeObject, ResourceType } from '../src/runtime/resource.js';
import { startKubeEnv, type KubeEnv } from '../test/support/kube-env.js';
import { repoRoot } from '../test/support/paths.js';

const CONFIG_MAP: ResourceType = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const NAMESPACE = 'bench';

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

interface PhaseResult {
  readonly phase: string;
  readonly seconds: number;
  readonly reconciles: number;
  readonly reconcilesPerSecond: number;
  readonly objectsPerSecond: number;
  readonly apiRequests: number;
  readonly apiRequestsPerObject: number;
}

const { values: args } = parseArgs({ options: { objects: { type: 'string', default: '1000' }, workers: { type: 'string', default: '4' } } });
const objects = Number(args.objects);
const workers = Number(args.workers);

async function main(): Promise<void> {
  const env = await startKubeEnv({ installCrds: false });
  try {
    const result = await measure(env);
    printTable(result);
    const path = join(repoRoot, 'bench', 'results', 'controller-throughput.json');
    await mkdir(join(repoRoot, 'bench', 'results'), { recursive: true });
    await writeFile(path, `${JSON.stringify({ date: new Date().toISOString(), objects, workers, node: process.version, ...result }, null, 2)}\n`);
    console.log(`\nwrote ${path}`);
  } finally {
    await env.stop();
  }
}

async function measure(env: KubeEnv) {
  const admin = await KubeClient.fromKubeConfig(env.kubeConfig());
  await admin.create({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false }, { metadata: { name: NAMESPACE } });
  const createSeconds = await timed(() =>
    inParallel(objects, 20, (i) => admin.create(CONFIG_MAP, { metadata: { namespace: NAMESPACE, name: `cm-${i}` }, data: { generation: '1' } })),
  );

  const memoryBaseline = memory();
  const metrics = new RuntimeMetrics();
  const manager = await Manager.create({ kubeConfig: env.kubeConfig(), metrics, log: createLogger({ level: 'warn' }) });
  const informer = manager.informer<ConfigMap>(CONFIG_MAP, { namespace: NAMESPACE });
  let reconciles = 0;
  manager.addController({
    name: 'bench',
    for: informer,
    maxConcurrentReconciles: workers,
    reconcile: async (req) => {
      reconciles++;
      const cm = informer.get(req.key);
      const generation = cm?.data?.generation;
      if (!cm || cm.data?.reconciled === generation) return;
      await manager.client.patch(CONFIG_MAP, req, 'merge', { data: { reconciled: generation } });
    },
  });

  const converged = (generation: string): boolean =>
    informer.store.size === objects && informer.list().every((cm) => cm.data?.reconciled === generation);

  const started = performance.now();
  await manager.start();
  await informer.waitForSync();
  const syncSeconds = (performance.now() - started) / 1000;
  const sync = await phase('sync', metrics, () => reconciles, () => waitUntil(() => converged('1')), started);
  const memoryAfterSync = memory();

  const updates = await phase('updates', metrics, () => reconciles, async () => {
    await inParallel(objects, 20, (i) => admin.patch(CONFIG_MAP, { namespace: NAMESPACE, name: `cm-${i}` }, 'merge', { data: { generation: '2' } }));
    await waitUntil(() => converged('2'));
  });
  const memoryAfterUpdates = memory();

  await manager.stop();
  admin.close();
  return { createSeconds, syncSeconds, phases: [sync, updates], memoryBaseline, memoryAfterSync, memoryAfterUpdates };
}

async function phase(
  name: string,
  metrics: RuntimeMetrics,
  reconcileCount: () => number,
  run: () => Promise<void>,
  startedAt = performance.now(),
): Promise<PhaseResult> {
  const [reconcilesBefore, requestsBefore] = [name === 'sync' ? 0 : reconcileCount(), name === 'sync' ? 0 : await apiRequests(metrics)];
  await run();
  const seconds = (performance.now() - startedAt) / 1000;
  // The watch event of a patch can overtake the patch's own response: let those responses land.
  await sleep(500);
  const reconciles = reconcileCount() - reconcilesBefore;
  const requests = (await apiRequests(metrics)) - requestsBefore;
  return {
    phase: name,
    seconds,
    reconciles,
    reconcilesPerSecond: reconciles / seconds,
    objectsPerSecond: objects / seconds,
    apiRequests: requests,
    apiRequestsPerObject: requests / objects,
  };
}

async function apiRequests(metrics: RuntimeMetrics): Promise<number> {
  const metric = await metrics.registry.getSingleMetric('rest_client_requests_total')?.get();
  return (metric?.values ?? []).reduce((sum, v) => sum + v.value, 0);
}

function memory(): { rssMiB: number; heapUsedMiB: number } {
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMiB: rss / 2 ** 20, heapUsedMiB: heapUsed / 2 ** 20 };
}

async function inParallel(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function timed(task: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await task();
  return (performance.now() - started) / 1000;
}

async function waitUntil(done: () => boolean, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not converged after ${timeoutMs} ms`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function printTable(result: Awaited<ReturnType<typeof measure>>): void {
  const f = (n: number, digits = 1): string => n.toFixed(digits);
  const rows: Array<[string, string]> = [
    ['objects / workers', `${objects} / ${workers}`],
    [`create ${objects} ConfigMaps (bench client)`, `${f(result.createSeconds, 2)} s`],
    ['manager start → cache synced', `${f(result.syncSeconds * 1000, 0)} ms`],
  ];
  for (const p of result.phases) {
    rows.push(
      [`${p.phase}: all objects reconciled`, `${f(p.seconds, 2)} s`],
      [`${p.phase}: reconciles (per second)`, `${p.reconciles} (${f(p.reconcilesPerSecond)}/s)`],
      [`${p.phase}: objects converged per second`, f(p.objectsPerSecond)],
      [`${p.phase}: API requests (per object)`, `${p.apiRequests} (${f(p.apiRequestsPerObject, 2)})`],
    );
  }
  rows.push(
    ['RSS / heap used before the manager', `${f(result.memoryBaseline.rssMiB)} / ${f(result.memoryBaseline.heapUsedMiB)} MiB`],
    ['RSS / heap used after sync', `${f(result.memoryAfterSync.rssMiB)} / ${f(result.memoryAfterSync.heapUsedMiB)} MiB`],
    ['RSS / heap used after updates', `${f(result.memoryAfterUpdates.rssMiB)} / ${f(result.memoryAfterUpdates.heapUsedMiB)} MiB`],
  );
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\ncontroller throughput (${objects} ConfigMaps, real kube-apiserver)\n`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
}

await main();
