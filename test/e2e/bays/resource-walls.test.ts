import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockerWithBundle, fetchCredentials } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { deployProbedService, ServiceProber, type ProbeReport } from '../../support/bays/prober.js';
import { getBay } from '../../support/bays/cluster.js';
import { mustKubectl } from '../../support/kubectl.js';
import { ofBay } from '../../support/lxd/index.js';

// One tenant's bay serves; another's node is attacked from inside: a memory hog, a full disk, busy loops
// and a fork bomb.
const env = useBayTestEnvironment('e2e-noisy', { network: 'isolated' });
const PORT = 8080;
const SECONDS = 15;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Node {
  readonly name: string;
  readonly address: string;
}

async function onlyNodeOf(bay: string): Promise<Node> {
  const uid = (await getBay(env.kubectl, env.namespace, bay)).metadata.uid;
  const [instance] = (await env.lxc.list()).filter(ofBay(uid));
  return { name: instance!.name, address: instance!.ipv4[0]! };
}

/**
 * A counter the kernel keeps for the node's cgroup, read from its own files on the host: the unified
 * hierarchy (`pids.events`, `memory.events`) or, on a hybrid host, the v1 controller's directory.
 */
async function cgroupCounter(node: Node, resource: 'pids' | 'memory', key: 'max' | 'oom_kill'): Promise<number> {
  const group = `lxc.payload.${node.name}`;
  const candidates =
    resource === 'pids'
      ? [`/sys/fs/cgroup/${group}/pids.events`, `/sys/fs/cgroup/pids/${group}/pids.events`]
      : [`/sys/fs/cgroup/${group}/memory.events`, `/sys/fs/cgroup/memory/${group}/memory.oom_control`];
  const path = candidates.find((p) => existsSync(p));
  if (!path) throw new Error(`none of ${candidates.join(', ')} exists`);
  const line = (await readFile(path, 'utf8')).split('\n').find((l) => l.startsWith(`${key} `));
  return Number(line?.split(' ')[1] ?? 0);
}

/** CPU time the node's cgroup has used, in seconds (cpu.stat on the unified hierarchy, cpuacct on v1). */
async function cpuSeconds(node: Node): Promise<number> {
  const group = `lxc.payload.${node.name}`;
  const unified = `/sys/fs/cgroup/${group}/cpu.stat`;
  if (existsSync(unified)) {
    const usage = (await readFile(unified, 'utf8')).split('\n').find((l) => l.startsWith('usage_usec '));
    return Number(usage?.split(' ')[1] ?? 0) / 1e6;
  }
  return Number((await readFile(`/sys/fs/cgroup/cpuacct/${group}/cpuacct.usage`, 'utf8')).trim()) / 1e9;
}

const figures = (r: ProbeReport): string =>
  `${r.ok}/${r.sent} answered, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, max ${r.latencyMs.max} ms`;

let quiet: Node;
let noisy: Node;
let prober: ServiceProber | undefined;

/** The noisy bay's nodes may run 500 processes: its fork bomb meets that limit long before its memory's. */
const NOISY_PROCESSES = 500;

beforeAll(async () => {
  await env.applyBay('quiet', { nodes: 1 });
  await env.applyBay('noisy', { nodes: 1, processes: NOISY_PROCESSES });
  await env.waitReady('quiet');
  await env.waitReady('noisy');
  quiet = await onlyNodeOf('quiet');
  noisy = await onlyNodeOf('noisy');
  const docker = dockerWithBundle(await fetchCredentials(env.kubeconfig, 'quiet', env.namespace));
  await deployProbedService(docker, { name: 'web', port: PORT, replicas: 1, nodeAddresses: [quiet.address] });
});

afterAll(async () => {
  await prober?.stop();
});

describe("one bay's node under attack from inside (resource walls)", () => {
  it("a memory hog, a full disk, busy loops and a fork bomb meet the node's limits; another bay answers", async () => {
    prober = new ServiceProber({ backends: [quiet.address], port: PORT, ratePerSecond: 20, attemptTimeoutMs: 3_000 });
    prober.start();
    await sleep(SECONDS * 1000);
    const calm = prober.report();
    const attack = prober.mark();

    // Memory: 64 MiB more every moment, far past the flavor's 512 MiB; the kernel kills it at the limit.
    const oomBefore = await cgroupCounter(noisy, 'memory', 'oom_kill');
    const hog = await env.lxc.exec(noisy.name, ['perl', '-e', '@a = (); push @a, "x" x (64 * 1024 * 1024) while 1;']);
    const oomAfter = await cgroupCounter(noisy, 'memory', 'oom_kill');
    // Disk: 3 GiB into a root disk of 2 GiB.
    const filled = await env.lxc.exec(noisy.name, ['dd', 'if=/dev/zero', 'of=/var/tmp/fill', 'bs=1M', 'count=3072'], {
      timeoutMs: 300_000,
    });
    await env.lxc.exec(noisy.name, ['rm', '-f', '/var/tmp/fill']);
    // CPU: four busy loops want four CPUs, started (detached) before the bomb takes every process slot.
    const spin = 'for i in 1 2 3 4; do setsid sh -c "while :; do :; done" </dev/null >/dev/null 2>&1 & done';
    const spun = await env.lxc.exec(noisy.name, ['bash', '-c', spin]);
    expect(spun.code, spun.stderr).toBe(0);
    const cpuBefore = await cpuSeconds(noisy);
    const spinning = performance.now();
    // Processes: a fork bomb, left running; the node's process limit is what stops it.
    const pidsBefore = await cgroupCounter(noisy, 'pids', 'max');
    void env.lxc.exec(noisy.name, ['bash', '-c', 'bomb() { bomb | bomb & }; bomb'], { timeoutMs: 60_000 });
    await sleep(SECONDS * 1000);
    const pidsAfter = await cgroupCounter(noisy, 'pids', 'max');
    // CPU: the node's one CPU (flavor cpu 1) is all the bomb gets, however many processes it has.
    const cpuUsed = (await cpuSeconds(noisy)) - cpuBefore;
    const wall = (performance.now() - spinning) / 1000;
    const attacked = prober.since(attack);
    // The bomb and what is left of the node go with its bay.
    await mustKubectl(env.kubectl, ['delete', 'bay', 'noisy', '-n', env.namespace, '--timeout=180s']);
    const report = await prober.stop();
    prober = undefined;

    console.log(
      [
        `quiet bay's service before the attack: ${figures(calm)}`,
        `quiet bay's service during the attack: ${figures(attacked)}`,
        `noisy node: memory hog exit ${hogged(hog.code)}, ` +
          `${oomAfter - oomBefore} process(es) killed at the memory limit; ` +
          `dd: ${filled.stderr.trim().split('\n')[0]}; fork bomb refused ${pidsAfter - pidsBefore} fork(s) at ` +
          `${NOISY_PROCESSES} processes; with busy loops the node used ${cpuUsed.toFixed(1)} s of CPU ` +
          `in ${wall.toFixed(1)} s`,
      ].join('\n'),
    );
    // Each limit held its attack inside the node.
    expect(hog.code).toBe(137);
    expect(oomAfter).toBeGreaterThan(oomBefore);
    expect(filled.code).not.toBe(0);
    expect(filled.stderr).toMatch(/Disk quota exceeded|No space left on device/);
    expect(pidsAfter).toBeGreaterThan(pidsBefore);
    expect(cpuUsed).toBeGreaterThan(wall * 0.8);
    expect(cpuUsed).toBeLessThan(wall * 1.05);
    // The other bay's service answered every probe, before, during and after.
    expect(calm.failed).toBe(0);
    expect(attacked.sent).toBeGreaterThan(SECONDS * 10);
    expect(report.failed, JSON.stringify(report.failures)).toBe(0);
    expect(attacked.latencyMs.p99).toBeLessThan(1_000);
  });
});

const hogged = (code: number): string => (code === 137 ? '137 (SIGKILL)' : String(code));
