/**
 * The control loop at fleet scale: 1,000 bays of 3 nodes against a real kube-apiserver, the operator
 * as its own process on simulated hosts (`marina run --simulate-hosts`, src/hosts/sim), created,
 * converged, left idle, then restarted. Reports:
 * - time to converge all bays;
 * - while idle: Kubernetes API requests per idle bay per hour (the apiserver's audit log of the
 *   operator's identity; apiserver_request_total over all clients beside it), host-provider calls per
 *   idle bay per hour, the operator's RSS and CPU;
 * - time for a restarted operator to resync all bays (every bay reconciled once, queue empty).
 * Goals: ≤ 2 API requests per idle bay per hour, RSS ≤ 256 MiB, idle CPU ≤ 2 % of a core, resync ≤ 60 s.
 *
 *   npm run build && npx tsx bench/fleet.ts [--bays 1000] [--hosts 20] [--idle-minutes 10] [--leader-elect]
 *
 * Prints a table and writes bench/results/fleet.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { OperatorProcess, sumSamples } from '../test/support/bays/operator.js';
import { freePort } from '../test/support/processes.js';
import { repoRoot } from '../test/support/paths.js';
import { IDLE_COLUMNS, idleCells, measureIdle, printTable, startAuditedKubeEnv } from './support/measure.js';
import type { KubeEnv } from '../test/support/kube-env.js';

const { values } = parseArgs({
  options: {
    bays: { type: 'string', default: '1000' },
    nodes: { type: 'string', default: '3' },
    hosts: { type: 'string', default: '20' },
    tenants: { type: 'string', default: '50' },
    'idle-minutes': { type: 'string', default: '10' },
    'leader-elect': { type: 'boolean', default: true },
    concurrency: { type: 'string', default: '4' },
    /** Seconds between resyncs of a Ready bay; the operator's default when absent. */
    resync: { type: 'string' },
    /** Write the operator's CPU profiles (V8 .cpuprofile) into this directory. */
    'cpu-prof-dir': { type: 'string' },
  },
});
const BAYS = Number(values.bays);
const NODES = Number(values.nodes);
const HOSTS = Number(values.hosts);
const TENANTS = Number(values.tenants);
const IDLE_MS = Number(values['idle-minutes']) * 60_000;

/** Latency of a small LXD host and of dockerd over TLS on a LAN: the control plane is what is measured. */
const WORLD_CONFIG = {
  latency: { create: { ms: 40, jitterMs: 20 }, start: { ms: 30, jitterMs: 10 }, stop: 10, delete: 20, list: { ms: 8, jitterMs: 4 }, file: 2, exec: 5, other: 2, docker: { ms: 2, jitterMs: 1 } },
  defaultHost: { cpu: 128, memoryBytes: 1024 * 2 ** 30, diskBytes: 16 * 2 ** 40 },
};

const tenantOf = (i: number): string => `fleet-${String(i % TENANTS).padStart(2, '0')}`;
const bayName = (i: number): string => `bay-${String(i).padStart(4, '0')}`;

function aggregateYaml(): string {
  const hosts = Array.from({ length: HOSTS }, (_, i) => `    - {name: host-${String(i).padStart(2, '0')}, endpoint: "unix:///simulated/host-${i}.socket"}`).join('\n');
  return `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: fleet}
spec:
  metadata: {flavor: container}
  hosts:
${hosts}
  # Simulated hosts model one shared bridge each.
  network: {mode: shared}
  kernelModules: []
  overcommit: {cpu: 4, memory: 1}
`;
}

function bayYaml(i: number): string {
  return `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${bayName(i)}, namespace: ${tenantOf(i)}}
spec:
  nodes: ${NODES}
  flavor: {cpu: 1, memory: 512Mi, disk: 2Gi}
`;
}

interface BayList {
  items: Array<{ status?: { phase?: string } }>;
}

async function phases(env: KubeEnv): Promise<Map<string, number>> {
  const listed = await env.kubectl(['get', 'bays', '-A', '-o', 'json']);
  const counts = new Map<string, number>();
  for (const bay of (JSON.parse(listed.stdout) as BayList).items) counts.set(bay.status?.phase ?? 'Pending', (counts.get(bay.status?.phase ?? 'Pending') ?? 0) + 1);
  return counts;
}

async function waitAllReady(env: KubeEnv, operator: OperatorProcess, since: number): Promise<number> {
  for (;;) {
    const counts = await phases(env);
    const ready = counts.get('Ready') ?? 0;
    console.error(`  ${((Date.now() - since) / 1000).toFixed(0)} s: ${[...counts].map(([p, n]) => `${p} ${n}`).join(', ')}`);
    if (ready === BAYS) return Date.now() - since;
    if (!operator.running) throw new Error(`the operator exited:\n${operator.logTail()}`);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
  }
}

/** From process start until the operator has reconciled every bay once and its queue is empty. */
async function waitResynced(operator: OperatorProcess, port: number, since: number): Promise<number> {
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text()).catch(() => '');
    const reconciled = sumSamples(text, 'controller_runtime_reconcile_total', { controller: 'bay' });
    const depth = sumSamples(text, 'workqueue_depth', { name: 'bay' });
    if (reconciled >= BAYS && depth === 0) return Date.now() - since;
    if (!operator.running) throw new Error(`the operator exited:\n${operator.logTail()}`);
  }
}

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'marina-fleet-'));
  const { env, auditLog, operatorKubeconfig } = await startAuditedKubeEnv(work);
  const worldFile = join(work, 'world.json');
  const configFile = join(work, 'world-config.json');
  await writeFile(configFile, JSON.stringify(WORLD_CONFIG));
  const port = await freePort();
  const args = [
    '--health-port', String(port),
    '--simulate-hosts', worldFile,
    '--simulate-config', configFile,
    '--concurrency', values.concurrency,
    '--log-level', 'warn',
    ...(values['leader-elect'] ? ['--leader-elect'] : []),
    ...(values.resync ? ['--resync', values.resync] : []),
  ];
  const nodeArgs = values['cpu-prof-dir'] ? ['--cpu-prof', `--cpu-prof-dir=${values['cpu-prof-dir']}`] : [];
  let operator = new OperatorProcess(operatorKubeconfig, args, nodeArgs);
  try {
    await env.kubectl(['create', 'namespace', 'marina-system']);
    for (let t = 0; t < TENANTS; t++) await env.kubectl(['create', 'namespace', tenantOf(t)]);
    await env.kubectl(['apply', '-f', '-'], { input: aggregateYaml() });
    operator.start();
    await env.kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'hostaggregate/fleet']);

    console.error(`creating ${BAYS} bays of ${NODES} nodes on ${HOSTS} simulated hosts`);
    const created = Date.now();
    for (let start = 0; start < BAYS; start += 100) {
      const docs = Array.from({ length: Math.min(100, BAYS - start) }, (_, k) => bayYaml(start + k)).join('---\n');
      const applied = await env.kubectl(['apply', '-f', '-'], { input: docs });
      if (applied.code !== 0) throw new Error(applied.stderr);
    }
    const convergeMs = await waitAllReady(env, operator, created);
    console.error(`all ${BAYS} bays Ready in ${(convergeMs / 1000).toFixed(0)} s; letting the last writes drain`);
    await new Promise((resolve) => setTimeout(resolve, 60_000));

    console.error(`idle for ${IDLE_MS / 60_000} min`);
    const metricsText = (): Promise<string> => fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const idle = await measureIdle({ env, auditLog, pid: operator.pid!, metricsText, bays: BAYS }, IDLE_MS);

    console.error('restarting the operator (SIGTERM, then a new process)');
    await operator.stop();
    operator = new OperatorProcess(operatorKubeconfig, args, nodeArgs);
    const restarted = Date.now();
    operator.start();
    const resyncMs = await waitResynced(operator, port, restarted);
    const afterResync = await phases(env);

    const result = {
      bays: BAYS,
      nodesPerBay: NODES,
      hosts: HOSTS,
      leaderElection: values['leader-elect'],
      convergeSeconds: convergeMs / 1000,
      ...idle,
      resyncSeconds: resyncMs / 1000,
      readyAfterResync: afterResync.get('Ready') ?? 0,
    };
    printTable(
      ['bays × nodes', 'converge', ...IDLE_COLUMNS, 'resync'],
      [[`${BAYS} × ${NODES}`, `${result.convergeSeconds.toFixed(0)} s`, ...idleCells(idle), `${result.resyncSeconds.toFixed(1)} s`]],
    );
    console.log('goals: ≤ 2 API requests per idle bay per hour, RSS ≤ 256 MiB, idle CPU ≤ 2 % of a core, resync ≤ 60 s');
    console.log(`\noperator requests while idle: ${idle.operatorRequests.byKind.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    console.log(`bays Ready after the restart: ${result.readyAfterResync} of ${BAYS}`);
    const out = join(repoRoot, 'bench', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'fleet.json'), JSON.stringify(result, null, 2));
  } finally {
    await operator.stop();
    await env.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
