/**
 * Quiet idle on real hosts: 5 Ready bays on the real LXD host, the operator at its defaults, left
 * alone. Reports the operator's Kubernetes API requests per idle bay per hour (from the apiserver's
 * audit log of the operator's identity), host-provider calls per idle bay per hour (the operator's
 * marina_host_calls_total), and the operator's RSS and CPU.
 *
 *   npm run build && npx tsx bench/idle-real.ts [--bays 5] [--nodes 3] [--idle-minutes 10]
 *
 * Prints a table and writes bench/results/idle-real.json.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { bayYaml, hostAggregateYaml, hostProvider, sweepNamespaceNodes } from '../test/support/bays/cluster.js';
import { OperatorProcess } from '../test/support/bays/operator.js';
import { lxdTestHost, testNodeImage } from '../test/support/lxd/index.js';
import { repoRoot } from '../test/support/paths.js';
import { IDLE_COLUMNS, idleCells, measureIdle, printTable, startAuditedKubeEnv } from './support/measure.js';

const { values } = parseArgs({ options: { bays: { type: 'string', default: '5' }, nodes: { type: 'string', default: '3' }, 'idle-minutes': { type: 'string', default: '10' } } });
const bays = Number(values.bays);
const nodes = Number(values.nodes);
const idleMs = Number(values['idle-minutes']) * 60_000;
const NS = 'bench-idle';

async function main(): Promise<void> {
  const work = await mkdtemp(join(tmpdir(), 'marina-idle-'));
  const host = await lxdTestHost();
  await testNodeImage(host);
  const provider = hostProvider(host);
  const { env, auditLog, operatorKubeconfig } = await startAuditedKubeEnv(work);
  // The operator's defaults: probe every 30 s, a Ready bay's swarm checked every 5 minutes.
  const operator = new OperatorProcess(operatorKubeconfig, []);
  try {
    await sweepNamespaceNodes(provider, NS);
    await env.kubectl(['create', 'namespace', 'marina-system']);
    await env.kubectl(['create', 'namespace', NS]);
    await env.kubectl(['apply', '-f', '-'], { input: hostAggregateYaml('bench-idle', host) });
    operator.start();
    await env.kubectl(['wait', '--for=condition=Ready', '--timeout=120s', 'hostaggregate/bench-idle']);
    const names = Array.from({ length: bays }, (_, i) => `idle-${i}`);
    const created = Date.now();
    for (const name of names) await env.kubectl(['apply', '-f', '-'], { input: bayYaml(name, NS, { nodes }) });
    for (const name of names) {
      const waited = await env.kubectl(['wait', '-n', NS, '--for=condition=Ready', '--timeout=600s', `bay/${name}`]);
      if (waited.code !== 0) throw new Error(`${name} not Ready: ${waited.stderr}\n${operator.logTail()}`);
    }
    const convergedMs = Date.now() - created;
    console.error(`${bays} bays of ${nodes} nodes Ready in ${(convergedMs / 1000).toFixed(1)} s; idle for ${idleMs / 60_000} min`);
    // Let the last status writes and Events of the creation drain before the window opens.
    await new Promise((resolve) => setTimeout(resolve, 15_000));

    const idle = await measureIdle({ env, auditLog, pid: operator.pid!, metricsText: () => operator.metricsText(), bays }, idleMs);
    const result = { bays, nodesPerBay: nodes, convergedSeconds: convergedMs / 1000, ...idle };
    printTable(['bays × nodes', ...IDLE_COLUMNS], [[`${bays} × ${nodes}`, ...idleCells(idle)]]);
    const requests = idle.operatorRequests;
    console.log(`\noperator requests in the window: ${requests.byKind.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`);
    const out = join(repoRoot, 'bench', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'idle-real.json'), JSON.stringify(result, null, 2));
  } finally {
    await env.kubectl(['delete', 'bays', '--all', '-n', NS, '--timeout=300s']);
    await operator.stop();
    await sweepNamespaceNodes(provider, NS);
    provider.close();
    await env.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
