import { join } from 'node:path';

import { repoRoot } from '../paths.js';
import { run } from '../processes.js';

/** The LXD daemon on this machine, prepared by tools/setup-lxd-host.sh (or the Incus one beside it). */
export interface LxdTestHost {
  /** The daemon's own CLI, which the tests observe it with. */
  readonly cli: 'lxc' | 'incus';
  readonly socketEndpoint: string;
  readonly httpsEndpoint: string;
  readonly serverFingerprint: string;
  readonly bridge: string;
  readonly storagePool: string;
  /** lxcfs was running when the set-up finished: nodes started since see their limits in /proc. */
  readonly lxcfs: boolean;
  /**
   * undefined: the provider's default module list. [] when the kernel cannot load modules (built-in
   * only), where LXD's modprobe for `linux.kernel_modules` would fail the start.
   */
  readonly kernelModules: readonly string[] | undefined;
}

let prepared: Promise<LxdTestHost> | undefined;

/**
 * Runs the host set-up once per test worker (idempotent, about a second when all is in place) and
 * returns what it printed. MARINA_LXCFS=0 in the environment keeps lxcfs off.
 */
export function lxdTestHost(): Promise<LxdTestHost> {
  prepared ??= prepare();
  return prepared;
}

async function prepare(): Promise<LxdTestHost> {
  const script = join(repoRoot, 'tools', 'setup-lxd-host.sh');
  const result = await run(script, [], { timeoutMs: 15 * 60_000 });
  if (result.code !== 0) throw new Error(`${script} failed (exit ${result.code}):\n${result.stderr}`);
  const values = parseAssignments(result.stdout);
  const value = (key: string): string => {
    const found = values.get(key);
    if (found === undefined) throw new Error(`${script} did not print ${key}`);
    return found;
  };
  return {
    cli: 'lxc',
    socketEndpoint: value('MARINA_LXD_SOCKET'),
    httpsEndpoint: value('MARINA_LXD_HTTPS'),
    serverFingerprint: value('MARINA_LXD_FINGERPRINT'),
    bridge: value('MARINA_LXD_BRIDGE'),
    storagePool: value('MARINA_LXD_POOL'),
    lxcfs: value('MARINA_LXCFS') === '1',
    kernelModules: value('MARINA_LXD_MODULE_LOADING') === '1' ? undefined : [],
  };
}

let preparedIncus: Promise<LxdTestHost> | undefined;

/**
 * The Incus daemon beside LXD (tools/setup-incus-host.sh, which installs Incus 6.0 from Debian's
 * backports when missing): a second real host on the same machine. Prepared after LXD, whose set-up
 * starts the lxcfs both use and tells whether the kernel loads modules.
 */
export function incusTestHost(): Promise<LxdTestHost> {
  preparedIncus ??= (async () => {
    const lxd = await lxdTestHost();
    const values = await runSetup('setup-incus-host.sh');
    return {
      cli: 'incus',
      socketEndpoint: values('MARINA_INCUS_SOCKET'),
      httpsEndpoint: values('MARINA_INCUS_HTTPS'),
      serverFingerprint: values('MARINA_INCUS_FINGERPRINT'),
      bridge: values('MARINA_INCUS_BRIDGE'),
      storagePool: values('MARINA_INCUS_POOL'),
      lxcfs: lxd.lxcfs,
      kernelModules: lxd.kernelModules,
    };
  })();
  return preparedIncus;
}

/** The network the test hosts share (tools/setup-host-network.sh): a bridge both daemons attach nodes to. */
export interface HostNetwork {
  readonly bridge: string;
  readonly subnet: string;
  readonly gateway: string;
}

let preparedNetwork: Promise<HostNetwork> | undefined;

export function hostNetwork(): Promise<HostNetwork> {
  preparedNetwork ??= runSetup('setup-host-network.sh').then((values) => ({
    bridge: values('MARINA_HOSTNET_BRIDGE'),
    subnet: values('MARINA_HOSTNET_SUBNET'),
    gateway: values('MARINA_HOSTNET_GATEWAY'),
  }));
  return preparedNetwork;
}

async function runSetup(name: string): Promise<(key: string) => string> {
  const script = join(repoRoot, 'tools', name);
  const result = await run(script, [], { timeoutMs: 15 * 60_000 });
  if (result.code !== 0) throw new Error(`${script} failed (exit ${result.code}):\n${result.stderr}`);
  const values = parseAssignments(result.stdout);
  return (key) => {
    const found = values.get(key);
    if (found === undefined) throw new Error(`${script} did not print ${key}`);
    return found;
  };
}

function parseAssignments(stdout: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match?.[1] !== undefined) values.set(match[1], match[2] ?? '');
  }
  return values;
}
