import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../support/paths.js';
import { run, type RunResult } from '../../support/processes.js';
import { hostKernelFeatures } from '../../support/kernel.js';
import { readmeShellBlock } from '../../support/readme.js';

const BRIDGE = 'marinapg0';
/** The pool the playground's bays take their own bridges' subnets from (isolated mode); see inPool. */
const POOL = '10.213.96.0/20';
const dir = await mkdtemp(join(tmpdir(), 'marina-playground-'));
const env = { ...process.env, MARINA_PLAYGROUND_DIR: dir };
const marina = (args: readonly string[]): Promise<RunResult> =>
  run(join(repoRoot, 'marina'), args, { env, timeoutMs: 45 * 60_000 });
const kubectl = async (args: readonly string[], kubeconfig = join(dir, 'admin.kubeconfig')): Promise<RunResult> =>
  run(join(dir, 'bin', 'kubectl'), ['--kubeconfig', kubeconfig, ...args]);

interface Instance {
  readonly name: string;
  readonly expanded_devices?: Record<string, Record<string, string>>;
}
interface Network {
  readonly name: string;
  readonly config: Record<string, string>;
}

/** 10.213.96.0/20: 10.213.96.x to 10.213.111.x. */
const inPool = (address: string): boolean => {
  const [a, b, c] = address.split('.').map(Number);
  return a === 10 && b === 213 && c !== undefined && c >= 96 && c < 112;
};

/** The playground's bridge and the bays' own bridges in its subnet pool, as `lxc` lists them. */
async function playgroundNetworks(): Promise<string[]> {
  const listed = await run('lxc', ['network', 'list', '--format', 'json']);
  return (JSON.parse(listed.stdout) as Network[])
    .filter((n) => inPool(n.config['ipv4.address'] ?? '') || n.name === BRIDGE)
    .map((n) => n.name);
}

/** Instances on the playground's networks, as the real lxc CLI lists them. */
async function playgroundInstances(): Promise<string[]> {
  const networks = await playgroundNetworks();
  const listed = await run('lxc', ['list', '--format', 'json']);
  const all = JSON.parse(listed.stdout) as Instance[];
  return all
    .filter((i) =>
      Object.values(i.expanded_devices ?? {}).some(
        (d) => networks.includes(d['network'] ?? '') || networks.includes(d['parent'] ?? ''),
      ),
    )
    .map((i) => i.name)
    .sort();
}

const pidsOf = async (): Promise<number[]> => {
  const runDir = join(dir, 'run');
  const files = existsSync(runDir) ? await readdir(runDir) : [];
  return Promise.all(files.map(async (f) => Number((await readFile(join(runDir, f), 'utf8')).trim())));
};
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

afterAll(async () => {
  // A failed test leaves nothing behind either.
  if (existsSync(dir)) await marina(['down']);
  await rm(dir, { recursive: true, force: true });
});

describe('the playground: marina up, the README walkthrough on it, marina down', () => {
  it('marina up brings up a control plane, the operator under its ServiceAccount and a Ready aggregate', async () => {
    const started = Date.now();
    const up = await marina(['up']);
    console.log(`marina up: ${((Date.now() - started) / 1000).toFixed(1)} s\n${up.stderr}`);
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain('marina playground is up');
    expect(up.stdout).toContain(`. ${join(dir, 'env')}`);
    // Its notes name the kernel features this host lacks and cannot load, and no other.
    for (const [feature, present] of Object.entries(hostKernelFeatures())) {
      const lacking = !present && (await run('modprobe', ['--dry-run', feature]).catch(() => ({ code: 1 }))).code !== 0;
      expect(new RegExp(`note: no ${feature}[: ]`).test(up.stdout), feature).toBe(lacking);
    }

    const aggregate = JSON.parse((await kubectl(['get', 'hostaggregate', 'playground', '-o', 'json'])).stdout) as {
      spec: { network: { mode: string; subnetPool: string } };
      status: { conditions: { type: string; status: string }[] };
    };
    expect(aggregate.spec.network).toMatchObject({ mode: 'isolated', subnetPool: POOL });
    expect(aggregate.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');

    // The operator holds its ServiceAccount's token, not the admin's certificate.
    const whoami = await kubectl(
      ['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}'],
      join(dir, 'operator.kubeconfig'),
    );
    expect(whoami.stdout).toBe('system:serviceaccount:marina-system:marina-operator');
    const operatorPid = Number((await readFile(join(dir, 'run', 'marina-operator.pid'), 'utf8')).trim());
    const cmdline = (await readFile(`/proc/${operatorPid}/cmdline`, 'utf8')).split('\0');
    expect(cmdline).toContain(join(dir, 'operator.kubeconfig'));
  });

  it('runs the README walkthrough as written: a bay Ready, credentials, docker node ls, grown to 4', async () => {
    const block = readmeShellBlock('Five minutes with a bay').replaceAll('/var/lib/marina/playground', dir);
    const cwd = await mkdtemp(join(tmpdir(), 'marina-walkthrough-'));
    await symlink(join(repoRoot, 'examples'), join(cwd, 'examples'));
    try {
      const walked = await run('bash', ['-euo', 'pipefail', '-c', block], { cwd, env, timeoutMs: 15 * 60_000 });
      expect(walked.code, `${walked.stdout}\n${walked.stderr}`).toBe(0);
      const listings = walked.stdout.split(/^ID\s+HOSTNAME/m).slice(1);
      const readyIn = (listing: string): number =>
        listing.split('\n').filter((l) => /\sReady\s+Active\s/.test(l)).length;
      expect(listings.map(readyIn)).toEqual([3, 4]);
    } finally {
      await rm(cwd, { recursive: true, force: true });
    }
    expect(await playgroundInstances()).toHaveLength(4);
  });

  it('a second marina up changes nothing and says so', async () => {
    const before = await playgroundInstances();
    const pids = await pidsOf();
    const started = Date.now();
    const again = await marina(['up']);
    console.log(`marina up, warm: ${((Date.now() - started) / 1000).toFixed(1)} s\n${again.stderr}`);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/control plane[^\n]*\n\s+already running/);
    expect(again.stderr).toMatch(/operator[^\n]*\n\s+already running/);
    expect(await pidsOf()).toEqual(pids);
    expect(await playgroundInstances()).toEqual(before);
  });

  it('after its processes die (a reboot), marina up starts them again on the same data: the bay is still Ready', async () => {
    const nodes = await playgroundInstances();
    for (const pid of await pidsOf()) process.kill(pid, 'SIGKILL');
    const again = await marina(['up']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/control plane[^\n]*\n\s+started etcd, kube-apiserver/);
    expect(again.stderr).toMatch(/operator[^\n]*\n\s+started/);
    const waited = await run(join(dir, 'bin', 'marina'), ['wait', 'web', '-n', 'team-a', '--timeout', '5m'], {
      env: { ...env, KUBECONFIG: join(dir, 'admin.kubeconfig') },
      timeoutMs: 360_000,
    });
    expect(waited.code, waited.stderr).toBe(0);
    expect(await playgroundInstances()).toEqual(nodes);
  });

  it('marina down leaves no process, node, network or file of the playground', async () => {
    const pids = await pidsOf();
    expect(pids).toHaveLength(3);
    const down = await marina(['down']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('no process, node, network or file of it is left');
    expect(pids.filter(alive)).toEqual([]);
    expect(await playgroundInstances()).toEqual([]);
    expect(await playgroundNetworks()).toEqual([]);
    expect(existsSync(dir)).toBe(false);
  });
});
