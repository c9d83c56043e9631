/**
 * How long a node takes on this machine's LXD host: image build (warm, and cold with --cold), and per
 * node create → running → address → Docker ready, median of --runs (default 5) sequential nodes.
 *
 *   npx tsx bench/node-provisioning.ts [--runs 5] [--cold]
 *
 * Prints a table and writes bench/results/node-provisioning-<time>.json. Every node it creates is
 * deleted, also on failure.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { buildNodeImage } from '../src/cli/image.js';
import { createHostProvider } from '../src/hosts/factory.js';
import type { HostProvider } from '../src/hosts/provider.js';
import { waitForNodeAddress } from '../src/hosts/wait.js';
import { lxdTestHost, sweepNodes, testBay, testNodeSpec, waitForDocker } from '../test/support/lxd/index.js';
import type { LxdTestHost } from '../test/support/lxd/index.js';
import { repoRoot } from '../test/support/paths.js';

interface NodeTimings {
  readonly createMs: number;
  readonly runningMs: number;
  readonly addressMs: number;
  readonly dockerReadyMs: number;
}

const { values: args } = parseArgs({
  options: { runs: { type: 'string', default: '5' }, cold: { type: 'boolean', default: false } },
});

async function main(): Promise<void> {
  const host = await lxdTestHost();
  const image = await measureImage(host, args.cold ?? false);
  const provider = createHostProvider(host.socketEndpoint, undefined, { name: 'bench', kernelModules: host.kernelModules });
  const bay = testBay('bench');
  const nodes: NodeTimings[] = [];
  try {
    for (let index = 0; index < Number(args.runs); index++) {
      nodes.push(await provisionOne(provider, host, image.alias, bay, index));
    }
  } finally {
    await sweepNodes(provider, { bayUid: bay.bayUid });
    provider.close();
  }
  const rows = [
    ...image.rows,
    summarize('node: create (stopped, hostname written)', nodes.map((n) => n.createMs)),
    summarize('node: create → running', nodes.map((n) => n.runningMs)),
    summarize('node: create → eth0 address', nodes.map((n) => n.addressMs)),
    summarize('node: create → docker info answers', nodes.map((n) => n.dockerReadyMs)),
  ];
  printTable(rows);
  await writeResults({ host: { lxcfs: host.lxcfs, pool: host.storagePool }, rows, nodes });
}

async function measureImage(host: LxdTestHost, cold: boolean): Promise<{ alias: string; rows: Row[] }> {
  const rows: Row[] = [];
  if (cold) {
    const started = Date.now();
    await buildNodeImage({ endpoint: host.socketEndpoint, rebuild: true });
    rows.push(summarize('image build, cold (debootstrap + pack + import)', [Date.now() - started]));
  }
  const started = Date.now();
  const warm = await buildNodeImage({ endpoint: host.socketEndpoint });
  rows.push(summarize('image build, warm (cache + alias check)', [Date.now() - started]));
  return { alias: warm.alias, rows };
}

async function provisionOne(
  provider: HostProvider,
  host: LxdTestHost,
  image: string,
  bay: ReturnType<typeof testBay>,
  index: number,
): Promise<NodeTimings> {
  const spec = testNodeSpec(host, image, bay, index);
  const started = Date.now();
  await provider.ensureNode(spec);
  const createMs = Date.now() - started;
  await provider.startNode(spec.name);
  const runningMs = Date.now() - started;
  await waitForNodeAddress(provider, spec.name, { timeoutMs: 120_000, intervalMs: 50 });
  const addressMs = Date.now() - started;
  await waitForDocker(provider, spec.name);
  const dockerReadyMs = Date.now() - started;
  await provider.deleteNode(spec.name);
  return { createMs, runningMs, addressMs, dockerReadyMs };
}

interface Row {
  readonly metric: string;
  readonly runs: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

function summarize(metric: string, samples: readonly number[]): Row {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { metric, runs: sorted.length, medianMs: median ?? 0, minMs: sorted[0] ?? 0, maxMs: sorted.at(-1) ?? 0 };
}

function printTable(rows: readonly Row[]): void {
  const width = Math.max(...rows.map((row) => row.metric.length));
  const seconds = (ms: number): string => `${(ms / 1000).toFixed(3)} s`.padStart(9);
  console.log(`${'metric'.padEnd(width)}  runs    median       min       max`);
  for (const row of rows) {
    console.log(
      `${row.metric.padEnd(width)}  ${String(row.runs).padStart(4)} ${seconds(row.medianMs)} ${seconds(row.minMs)} ${seconds(row.maxMs)}`,
    );
  }
}

async function writeResults(results: object): Promise<void> {
  const dir = join(repoRoot, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `node-provisioning-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(file, `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
  console.log(`\nwrote ${file}`);
}

await main();
