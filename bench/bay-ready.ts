/**
 * Time from `kubectl apply` of a Bay to its Ready condition, for 1 and 3 nodes (median of 5 each), in
 * each network mode, with the operator's own per-phase timings summed over the reconciles of each run.
 * Real everything: a real kube-apiserver, the operator as a process, the LXD host of
 * tools/setup-lxd-host.sh. In isolated mode a node's address is fixed before it boots, so its dockerd
 * starts with its certificate; in shared mode it is restarted once the address is known.
 *
 *   npm run build && npx tsx bench/bay-ready.ts [--runs 5] [--sizes 1,3] [--networks shared,isolated]
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
import { startKubeEnv } from '../test/support/kube-env.js';
import { lxcFor, lxdTestHost, sweepBayNetworks, testNodeImage } from '../test/support/lxd/index.js';
import { repoRoot } from '../test/support/paths.js';
import { BENCH_OPERATOR_ARGS } from './support/real-bay.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    sizes: { type: 'string', default: '1,3' },
    networks: { type: 'string', default: 'shared,isolated' },
  },
});
const runs = Number(values.runs);
const sizes = values.sizes.split(',').map(Number);
const networks = values.networks.split(',') as E2eNetwork[];
const NS = 'bench-bays';

interface Run {
  readonly network: E2eNetwork;
  readonly nodes: number;
  readonly readyMs: number;
  readonly phaseMs: Record<string, number>;
  readonly reconciles: number;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function main(): Promise<void> {
  const host = await lxdTestHost();
  await testNodeImage(host);
  const provider = hostProvider(host);
  const env = await startKubeEnv();
  const operator = new OperatorProcess(env.kubeconfigPath, BENCH_OPERATOR_ARGS);
  const results: Run[] = [];
  try {
    await sweepNamespaceNodes(provider, NS);
    await env.kubectl(['create', 'namespace', 'marina-system']);
    await env.kubectl(['create', 'namespace', NS]);
    operator.start();
    for (const network of networks) {
      await env.kubectl(['apply', '-f', '-'], { input: hostAggregateYaml('bench-local', host, network) });
      await env.kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'hostaggregate/bench-local']);
      for (const nodes of sizes) {
        for (let i = 0; i < runs; i++) {
          const name = `ready-${nodes}n-${i}`;
          const seenBefore = operator.logRecords().length;
          const started = performance.now();
          await env.kubectl(['apply', '-f', '-'], { input: bayYaml(name, NS, { nodes }) });
          const waited = await env.kubectl([
            'wait',
            '-n',
            NS,
            '--for=condition=Ready',
            '--timeout=300s',
            `bay/${name}`,
          ]);
          const readyMs = performance.now() - started;
          if (waited.code !== 0) throw new Error(`${name} not Ready: ${waited.stderr}\n${operator.logTail()}`);
          // The reconcile that made the bay Ready logs after its status write: wait for its line.
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
          results.push({ network, nodes, readyMs: Math.round(readyMs), phaseMs, reconciles: reconciles.length });
          console.error(
            `${network} ${name}: Ready in ${(readyMs / 1000).toFixed(2)} s over ${reconciles.length} reconciles`,
          );
          await env.kubectl(['delete', 'bay', name, '-n', NS, '--timeout=180s']);
        }
      }
    }
  } finally {
    await operator.stop();
    await sweepNamespaceNodes(provider, NS);
    await sweepBayNetworks(lxcFor(host), NS);
    provider.close();
    await env.stop();
  }

  const phases = ['certificates', 'discovery', 'placement', 'nodes', 'swarm', 'credentials', 'status'];
  const summary = networks.flatMap((network) =>
    sizes.map((nodes) => {
      const mine = results.filter((r) => r.nodes === nodes && r.network === network);
      return {
        network,
        nodes,
        runs: mine.length,
        readyMedianMs: median(mine.map((r) => r.readyMs)),
        readyMinMs: Math.min(...mine.map((r) => r.readyMs)),
        readyMaxMs: Math.max(...mine.map((r) => r.readyMs)),
        phaseMedianMs: Object.fromEntries(phases.map((p) => [p, median(mine.map((r) => r.phaseMs[p] ?? 0))])),
      };
    }),
  );
  const header = ['network', 'nodes', 'apply→Ready median', 'min', 'max', ...phases];
  console.log(header.join(' | '));
  console.log(header.map(() => '---').join(' | '));
  for (const s of summary) {
    console.log(
      [
        s.network,
        s.nodes,
        `${(s.readyMedianMs / 1000).toFixed(2)} s`,
        `${(s.readyMinMs / 1000).toFixed(2)} s`,
        `${(s.readyMaxMs / 1000).toFixed(2)} s`,
        ...phases.map((p) => `${s.phaseMedianMs[p]} ms`),
      ].join(' | '),
    );
  }
  const out = join(repoRoot, 'bench', 'results');
  await mkdir(out, { recursive: true });
  await writeFile(
    join(out, 'bay-ready.json'),
    JSON.stringify({ date: new Date().toISOString(), runs: results, summary }, null, 2),
  );
}

await main();
