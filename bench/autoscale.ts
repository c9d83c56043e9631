/**
 * Grow-only autoscaling of a 1-node bay (maxNodes 4, threshold 80%, cooldown 1m): the time from a
 * reservation threshold crossing to the new node being Ready, median of 3 runs, goal ≤ 30 s. Real
 * everything: a real kube-apiserver, the operator as a process (reading reservations every 5 s, its
 * default), the LXD host of tools/setup-lxd-host.sh, the real swarm and docker CLI.
 *
 * Run i (i = 0, 1, 2) starts from a steady bay of n = 1 + i Ready nodes and creates a service of n tasks
 * each reserving 435 MiB of a node's 512 MiB: 85% of the bay's memory. The threshold is crossed when all
 * n tasks run; from then on the run times
 *
 * - until status.autoscale.target is n + 1 (the operator's detection delay), and
 * - until the bay is Ready with n + 1 Ready nodes.
 *
 * The service is then removed and the run waits out the cooldown since the scale-up (plus 2 s), so the
 * next run starts from a steady bay; the bay must still have n + 1 nodes (it never shrinks).
 *
 *   npm run build && npx tsx bench/autoscale.ts [--runs 3]
 *
 * Prints a table and writes bench/results/autoscale.json.
 */
import { parseArgs } from 'node:util';
import { getBay, type BayView } from '../test/support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials, type DockerCli } from '../test/support/bays/docker-cli.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../test/support/bays/workload-image.js';
import type { Kubectl } from '../test/support/kubectl.js';
import { printTable, seconds, sleep, spread, type Spread } from './support/measure.js';
import { withRealBay, writeResults } from './support/real-bay.js';

const NS = 'bench-autoscale';
const AGGREGATE = 'bench-autoscale';
const BAY = 'auto';
const MAX_NODES = 4;
const THRESHOLD_PERCENT = 80;
const COOLDOWN = '1m';
const COOLDOWN_MS = 60_000;
/** After the cooldown, so that the next run's scale-up is not held back by it. */
const COOLDOWN_MARGIN_MS = 2_000;
/** 435 MiB of each node's 512 MiB: 85%, over the 80% threshold. */
const RESERVE_MEMORY = '435M';
const POLL_MS = 250;
/** For the tasks to run, and again from the threshold crossing to the new node Ready. */
const RUN_TIMEOUT_MS = 5 * 60_000;
const GOAL_MS = 30_000;

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1 || runs > MAX_NODES - 1) {
  throw new Error(`--runs must be an integer from 1 to ${MAX_NODES - 1} (each run adds a node), not ${values.runs}`);
}

interface Run {
  readonly service: string;
  /** Ready nodes when the run started. */
  readonly nodesBefore: number;
  /** status.nodes once the service was removed and the cooldown over: still nodesBefore + 1. */
  readonly nodesAfter: number;
  /** Service created → all its tasks Running (the threshold crossing). */
  readonly tasksRunningMs: number;
  /** Threshold crossing → status.autoscale.target raised to nodesBefore + 1. */
  readonly targetMs: number;
  /** Threshold crossing → the bay Ready with nodesBefore + 1 Ready nodes. */
  readonly readyMs: number;
}


/** The label hostAggregateYaml gives its aggregates is suite: e2e. */
function autoscaledBayYaml(): string {
  return `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${BAY}, namespace: ${NS}}
spec:
  nodes: 1
  flavor: {cpu: 1, memory: 512Mi, disk: 2Gi}
  aggregateSelector: {matchLabels: {suite: e2e}}
  autoscale: {enabled: true, maxNodes: ${MAX_NODES}, thresholdPercent: ${THRESHOLD_PERCENT}, cooldown: ${COOLDOWN}}
`;
}

async function mustDocker(docker: DockerCli, args: readonly string[]): Promise<string> {
  const r = await docker(args);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The states of the service's tasks that should run, one per task. */
async function taskStates(docker: DockerCli, service: string): Promise<string[]> {
  const out = await mustDocker(docker, [
    'service', 'ps', service, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}',
  ]);
  return out.split('\n').filter((line) => line.trim() !== '');
}

/**
 * Why autoscaling cannot grow the bay, if it says so. One block is expected: in the run that reaches
 * maxNodes, once the target is maxNodes, the reservations stay over the threshold on the old nodes until
 * the last node joins, and the operator says it has its maxNodes.
 */
function blocked(bay: BayView, n: number): string | undefined {
  const c = bay.status?.conditions?.find((x) => x.reason === 'AutoscaleBlocked');
  if (!c) return undefined;
  const growingToMax = n + 1 === MAX_NODES && bay.status?.autoscale?.target === MAX_NODES;
  return growingToMax && c.message.includes(`maxNodes (${MAX_NODES})`) ? undefined : c.message;
}

/** A read with the moment it returned. */
async function timed<T>(read: Promise<T>): Promise<{ value: T; at: number }> {
  const value = await read;
  return { value, at: performance.now() };
}

const nodeCount = (bay: BayView): number => bay.status?.nodes?.length ?? 0;

async function scaleUpRun(kubectl: Kubectl, docker: DockerCli, i: number): Promise<Run> {
  const n = 1 + i;
  const service = `load-${i}`;
  const before = await getBay(kubectl, NS, BAY);
  if (before.status?.phase !== 'Ready' || before.status.readyNodes !== n || nodeCount(before) !== n) {
    const seen = `phase ${before.status?.phase}, ${before.status?.readyNodes} Ready of ${nodeCount(before)} nodes`;
    throw new Error(`${service}: the bay should start Ready with ${n} nodes: ${seen}`);
  }
  // No registry is reachable: every node that may run a task needs the image locally.
  for (const node of before.status.nodes ?? []) {
    if (!node.address) throw new Error(`${service}: node ${node.name} has no address`);
    await loadWorkloadImage(docker, node.address);
  }

  const created = performance.now();
  await mustDocker(docker, [
    'service', 'create', '--detach', '--name', service, '--replicas', String(n),
    '--reserve-memory', RESERVE_MEMORY, WORKLOAD_IMAGE, 'sleep', '1000000',
  ]);
  let crossedAt: number | undefined;
  let targetAt: number | undefined;
  let readyAt: number | undefined;
  let states: string[] = [];
  let bay = before;
  for (;;) {
    const tick = performance.now();
    // The bay is read while the tasks start too: a target raised before the last task runs counts as ≤ 0 s.
    const [b, ps] = await Promise.all([
      timed(getBay(kubectl, NS, BAY)),
      crossedAt === undefined ? timed(taskStates(docker, service)) : undefined,
    ]);
    bay = b.value;
    if (ps) {
      states = ps.value;
      if (states.length === n && states.every((s) => s.startsWith('Running'))) crossedAt = ps.at;
    }
    if (bay.status?.autoscale?.target === n + 1) targetAt ??= b.at;
    if (bay.status?.phase === 'Ready' && bay.status.readyNodes === n + 1) readyAt ??= b.at;
    if (crossedAt !== undefined && targetAt !== undefined && readyAt !== undefined) break;

    const why = blocked(bay, n);
    if (why) throw new Error(`${service}: autoscaling is blocked: ${why}`);
    const now = performance.now();
    if (crossedAt === undefined && now > created + RUN_TIMEOUT_MS) {
      throw new Error(`${service}: ${n} tasks not Running after ${RUN_TIMEOUT_MS / 1000} s: ${states.join('; ')}`);
    }
    if (crossedAt !== undefined && now > crossedAt + RUN_TIMEOUT_MS) {
      const s = bay.status;
      const seen = `target ${s?.autoscale?.target}, phase ${s?.phase}, ${s?.readyNodes} Ready`;
      throw new Error(`${service}: no Ready node ${n + 1} ${RUN_TIMEOUT_MS / 1000} s after the crossing: ${seen}`);
    }
    // One read per POLL_MS, however long the calls themselves took.
    await sleep(Math.max(0, tick + POLL_MS - performance.now()));
  }

  await mustDocker(docker, ['service', 'rm', service]);
  const nodesAfter = await afterCooldown(kubectl, service);
  if (nodesAfter !== n + 1) throw new Error(`${service}: ${nodesAfter} nodes after the removal, not ${n + 1}`);
  return {
    service,
    nodesBefore: n,
    nodesAfter,
    tasksRunningMs: Math.round(crossedAt - created),
    targetMs: Math.round(targetAt - crossedAt),
    readyMs: Math.round(readyAt - crossedAt),
  };
}

/** Waits until the cooldown since the last scale-up is over (plus a margin); the bay's node count then. */
async function afterCooldown(kubectl: Kubectl, service: string): Promise<number> {
  const last = (await getBay(kubectl, NS, BAY)).status?.autoscale?.lastScaleUpTime;
  const lastMs = last === undefined ? Number.NaN : Date.parse(last);
  if (Number.isNaN(lastMs)) throw new Error(`${service}: no status.autoscale.lastScaleUpTime after a scale-up`);
  await sleep(Math.max(0, lastMs + COOLDOWN_MS + COOLDOWN_MARGIN_MS - Date.now()));
  return nodeCount(await getBay(kubectl, NS, BAY));
}


function printSummary(results: readonly Run[]): Record<string, Spread> {
  const summary = {
    crossingToTarget: spread(results.map((r) => r.targetMs)),
    crossingToReady: spread(results.map((r) => r.readyMs)),
  };
  const counts = results.map((r) => `${r.nodesBefore}→${r.nodesAfter}`).join(', ');
  const row = (label: string, s: Spread): string[] => [
    label,
    seconds(s.medianMs),
    seconds(s.minMs),
    seconds(s.maxMs),
    counts,
  ];
  printTable(
    [`autoscaled bay (maxNodes ${MAX_NODES})`, 'median', 'min', 'max', 'nodes per run'],
    [
      row('threshold crossed → target raised', summary.crossingToTarget),
      row('threshold crossed → new node Ready', summary.crossingToReady),
    ],
  );
  const met = summary.crossingToReady.medianMs <= GOAL_MS ? 'met' : 'missed';
  console.log(`\nGoal: new node Ready ≤ ${GOAL_MS / 1000} s after the crossing (median): ${met}.`);
  return summary;
}

async function main(): Promise<void> {
  const results: Run[] = [];
  const options = { namespace: NS, aggregate: AGGREGATE, bay: BAY, bayYaml: autoscaledBayYaml() };
  await withRealBay(options, async ({ kubectl, kubeconfigPath }) => {
    const docker = dockerWithBundle(await fetchCredentials(kubeconfigPath, BAY, NS));
    for (let i = 0; i < runs; i++) {
      const r = await scaleUpRun(kubectl, docker, i);
      results.push(r);
      const times = `target raised ${seconds(r.targetMs)}, new node Ready ${seconds(r.readyMs)}`;
      console.error(`${r.service}: ${r.nodesBefore}→${r.nodesAfter} nodes, ${times} after the crossing`);
    }
  });
  const summary = printSummary(results);
  const result = {
    date: new Date().toISOString(),
    nodes: 1,
    maxNodes: MAX_NODES,
    thresholdPercent: THRESHOLD_PERCENT,
    cooldown: COOLDOWN,
    reserveMemory: RESERVE_MEMORY,
    pollMs: POLL_MS,
    goalMs: GOAL_MS,
  };
  await writeResults('autoscale', { ...result, runs: results, summary });
}

await main();
