/**
 * Time from `kubectl apply` of a Bay to its Ready condition, for 1, 3 and 10 nodes (10 with 3
 * managers), and from raising spec.nodes of a Ready 3-node bay by one to Ready with 4 (`+1`), median
 * of 5 each. For each run: the operator's per-phase timings summed over the run's reconciles, and the
 * mean time a node spent in each provisioning stage (marina_node_provisioning_seconds), and where the
 * machine's CPU went (how many cores were busy; seconds used by the host daemon, the nodes, the
 * operator: a run that kept every core busy cannot be shortened by overlapping more). Real
 * everything: a real kube-apiserver, the operator as a process, the LXD host of tools/setup-lxd-host.sh
 * and the Incus host of tools/setup-incus-host.sh. Ready is seen through one `kubectl --watch`.
 * In isolated mode a node's address is fixed before it boots, so its dockerd starts with its
 * certificate; in shared mode it is restarted once the address is known.
 *
 *   npm run build && npx tsx bench/bay-ready.ts [--runs 5] [--sizes 1,3,10,+1] [--networks shared]
 *     [--daemons lxd,incus]
 *
 * Prints a table and writes bench/results/bay-ready.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bayYaml,
  hostAggregateYaml,
  hostProvider,
  sweepNamespaceNodes,
  type E2eNetwork,
} from '../test/support/bays/cluster.js';
import { OperatorProcess } from '../test/support/bays/operator.js';
import { startKubeEnv, type KubeEnv } from '../test/support/kube-env.js';
import { mustKubectl } from '../test/support/kubectl.js';
import { incusTestHost, lxcFor, lxdTestHost, sweepBayNetworks, testNodeImage } from '../test/support/lxd/index.js';
import { repoRoot } from '../test/support/paths.js';
import { cpuUse, hostDaemonPid, readCpu, type CpuUse } from './support/cpu.js';
import { machineSettled } from './support/measure.js';
import { waitBayReady } from './support/ready-watch.js';
import { BENCH_OPERATOR_ARGS } from './support/real-bay.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,3,10,+1' },
    networks: { type: 'string', default: 'shared' },
    daemons: { type: 'string', default: 'lxd' },
  },
});
const runs = Number(values.runs);
/** A number of nodes to create, or `+1`: one node added to a Ready 3-node bay. */
const sizes = values.sizes.split(',');
const networks = values.networks.split(',') as E2eNetwork[];
/** The host daemons to measure on: LXD 5.0 remaps a node's files at its first start, Incus 6.0 mounts them idmapped. */
const daemons = values.daemons.split(',') as HostDaemon[];
type HostDaemon = 'lxd' | 'incus';
const NS = 'bench-bays';
const STAGES = ['create', 'seed', 'start', 'address', 'dockerd', 'swarm_join'] as const;
const CPU_KEYS = ['busyCores', 'daemonSeconds', 'containersSeconds', 'operatorSeconds'] as const;
type CpuKey = (typeof CPU_KEYS)[number];
const PHASES = ['certificates', 'discovery', 'placement', 'nodes', 'swarm', 'credentials', 'status'] as const;

interface Run {
  readonly daemon: HostDaemon;
  readonly network: E2eNetwork;
  readonly size: string;
  readonly readyMs: number;
  readonly phaseMs: Record<string, number>;
  /** Mean milliseconds a node spent in each stage during the run. */
  readonly stageMs: Record<string, number>;
  readonly reconciles: number;
  /** Where the machine's CPU went from apply to Ready. */
  readonly cpu: CpuUse;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const managersFor = (nodes: number): number => (nodes >= 5 ? 3 : 1);

/** Sum and count of each stage's histogram, read from the operator's /metrics. */
async function stageTotals(operator: OperatorProcess): Promise<Map<string, { sum: number; count: number }>> {
  const totals = new Map<string, { sum: number; count: number }>();
  for (const stage of STAGES) {
    const sum = await operator.metric('marina_node_provisioning_seconds_sum', { stage });
    const count = await operator.metric('marina_node_provisioning_seconds_count', { stage });
    totals.set(stage, { sum, count });
  }
  return totals;
}

function stageMeans(
  before: Map<string, { sum: number; count: number }>,
  after: Map<string, { sum: number; count: number }>,
): Record<string, number> {
  return Object.fromEntries(
    STAGES.map((stage) => {
      const sum = after.get(stage)!.sum - before.get(stage)!.sum;
      const count = after.get(stage)!.count - before.get(stage)!.count;
      return [stage, count > 0 ? Math.round((sum / count) * 1000) : 0];
    }),
  );
}

/** The phase timings of the bay's reconciles logged since `seenBefore`, once the Ready one has logged. */
async function phaseTimes(operator: OperatorProcess, seenBefore: number, name: string) {
  const reconcilesOf = (): Record<string, unknown>[] =>
    operator
      .logRecords()
      .slice(seenBefore)
      .filter((r) => r.msg === 'bay reconciled' && r.name === name);
  const logged = Date.now() + 10_000;
  while (!reconcilesOf().some((r) => r.phase === 'Ready') && Date.now() < logged) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const reconciles = reconcilesOf();
  const phaseMs: Record<string, number> = {};
  for (const r of reconciles)
    for (const [phase, ms] of Object.entries(r.phaseMs as Record<string, number>))
      phaseMs[phase] = (phaseMs[phase] ?? 0) + ms;
  return { phaseMs, reconciles: reconciles.length };
}

const waitReady = (env: KubeEnv, name: string): Promise<void> => waitBayReady(env, NS, name, 300_000);

interface Target {
  readonly daemon: HostDaemon;
  readonly daemonPid: number | undefined;
  readonly network: E2eNetwork;
}

/** What went wrong on the way, when a run took more than one reconcile: the operator's warnings and errors. */
function setbacks(operator: OperatorProcess, seenBefore: number, name: string): string[] {
  const said = operator
    .logRecords()
    .slice(seenBefore)
    .filter((r) => r.name === name && (r.level === 'warn' || r.level === 'error'))
    .map((r) => `${String(r.msg)}: ${String((r.err as { message?: string } | undefined)?.message ?? '')}`);
  return [...new Set(said)];
}

/** One measured run: apply (or grow) → Ready, with what the operator logged and counted meanwhile. */
async function measure(env: KubeEnv, operator: OperatorProcess, target: Target, size: string, i: number): Promise<Run> {
  const { daemon, network } = target;
  const growth = size.startsWith('+');
  const nodes = growth ? 3 : Number(size);
  const name = `ready-${growth ? 'grow' : `${nodes}n`}-${i}`;
  const manifest = (n: number): string => bayYaml(name, NS, { nodes: n, managers: managersFor(nodes) });
  if (growth) {
    await env.kubectl(['apply', '-f', '-'], { input: manifest(nodes) });
    await waitReady(env, name);
  }
  const settledMs = await machineSettled();
  const seenBefore = operator.logRecords().length;
  const stagesBefore = await stageTotals(operator);
  const cpuBefore = await readCpu(target.daemonPid, operator.pid);
  const started = performance.now();
  if (growth) {
    const patch = JSON.stringify({ spec: { nodes: nodes + Number(size.slice(1)) } });
    await mustKubectl(env.kubectl, ['patch', 'bay', name, '-n', NS, '--type=merge', '-p', patch]);
  } else {
    await mustKubectl(env.kubectl, ['apply', '-f', '-'], { input: manifest(nodes) });
  }
  await waitReady(env, name).catch((err: unknown) => {
    throw new Error(`${name}: ${(err as Error).message}\n${operator.logTail()}`);
  });
  const readyMs = Math.round(performance.now() - started);
  const cpu = cpuUse(cpuBefore, await readCpu(target.daemonPid, operator.pid));
  const { phaseMs, reconciles } = await phaseTimes(operator, seenBefore, name);
  const stageMs = stageMeans(stagesBefore, await stageTotals(operator));
  const ready = `Ready in ${(readyMs / 1000).toFixed(2)} s over ${reconciles} reconciles, cpu ${JSON.stringify(cpu)}`;
  console.error(`${daemon} ${network} ${name}: ${ready} (machine settled ${(settledMs / 1000).toFixed(1)} s before)`);
  if (reconciles > 1) for (const line of setbacks(operator, seenBefore, name)) console.error(`  ${line}`);
  await env.kubectl(['delete', 'bay', name, '-n', NS, '--timeout=180s']);
  return { daemon, network, size, readyMs, phaseMs, stageMs, reconciles, cpu };
}

async function main(): Promise<void> {
  const env = await startKubeEnv();
  const operator = new OperatorProcess(env.kubeconfigPath, BENCH_OPERATOR_ARGS);
  const results: Run[] = [];
  try {
    await env.kubectl(['create', 'namespace', 'marina-system']);
    await env.kubectl(['create', 'namespace', NS]);
    operator.start();
    for (const daemon of daemons) results.push(...(await measureOn(env, operator, daemon)));
  } finally {
    await operator.stop();
    await env.stop();
  }
  const summary = summarize(results);
  printTable(summary);
  const out = join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'bay-ready.json'),
    JSON.stringify({ date: new Date().toISOString(), runs: results, summary }, null, 2),
  );
}

/** Every size and network on one host daemon; its nodes and bay networks are swept before and after. */
async function measureOn(env: KubeEnv, operator: OperatorProcess, daemon: HostDaemon): Promise<Run[]> {
  const host = daemon === 'incus' ? await incusTestHost() : await lxdTestHost();
  await testNodeImage(host);
  const provider = hostProvider(host);
  const daemonPid = await hostDaemonPid(daemon === 'incus' ? 'incusd' : 'lxd');
  const results: Run[] = [];
  try {
    await sweepNamespaceNodes(provider, NS);
    for (const network of networks) {
      await env.kubectl(['apply', '-f', '-'], { input: hostAggregateYaml('bench-local', host, network) });
      await env.kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'hostaggregate/bench-local']);
      for (const size of sizes) {
        const target = { daemon, daemonPid, network };
        for (let i = 0; i < runs; i++) results.push(await measure(env, operator, target, size, i));
      }
    }
  } finally {
    await sweepNamespaceNodes(provider, NS);
    await sweepBayNetworks(lxcFor(host), NS);
    provider.close();
  }
  return results;
}

function summarize(results: readonly Run[]) {
  return daemons.flatMap((daemon) => networks.flatMap((network) =>
    sizes.map((size) => {
      const mine = results.filter((r) => r.size === size && r.network === network && r.daemon === daemon);
      const medianOf = (pick: (r: Run) => number): number => median(mine.map(pick));
      return {
        daemon,
        network,
        size,
        managers: size.startsWith('+') ? 1 : managersFor(Number(size)),
        runs: mine.length,
        readyMedianMs: medianOf((r) => r.readyMs),
        readyMinMs: Math.min(...mine.map((r) => r.readyMs)),
        readyMaxMs: Math.max(...mine.map((r) => r.readyMs)),
        phaseMedianMs: Object.fromEntries(PHASES.map((p) => [p, medianOf((r) => r.phaseMs[p] ?? 0)])),
        stageMedianMs: Object.fromEntries(STAGES.map((s) => [s, medianOf((r) => r.stageMs[s] ?? 0)])),
        cpuMedian: Object.fromEntries(CPU_KEYS.map((k) => [k, medianOf((r) => r.cpu[k])])) as Record<CpuKey, number>,
      };
    }),
  ));
}

function printTable(summary: ReturnType<typeof summarize>): void {
  const header = [
    ...['daemon', 'network', 'nodes', 'apply→Ready median', 'min', 'max'],
    ...PHASES,
    ...STAGES.map((s) => `${s}/node`),
    ...['busy cores', 'cpu s: daemon', 'nodes', 'operator'],
  ];
  console.log(header.join(' | '));
  console.log(header.map(() => '---').join(' | '));
  for (const s of summary) {
    console.log(
      [
        s.daemon,
        s.network,
        s.size.startsWith('+') ? `3 ${s.size}` : `${s.size} (${s.managers} mgr)`,
        `${(s.readyMedianMs / 1000).toFixed(2)} s`,
        `${(s.readyMinMs / 1000).toFixed(2)} s`,
        `${(s.readyMaxMs / 1000).toFixed(2)} s`,
        ...PHASES.map((p) => `${s.phaseMedianMs[p]} ms`),
        ...STAGES.map((st) => `${s.stageMedianMs[st]} ms`),
        ...CPU_KEYS.map((k) => s.cpuMedian[k].toFixed(2)),
      ].join(' | '),
    );
  }
}

await main();
