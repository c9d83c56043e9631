import { join } from 'node:path';

import { repoRoot } from '../paths.js';
import { run } from '../processes.js';

/** The LXD daemon on this machine, prepared by tools/setup-lxd-host.sh. */
export interface LxdTestHost {
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
    socketEndpoint: value('MARINA_LXD_SOCKET'),
    httpsEndpoint: value('MARINA_LXD_HTTPS'),
    serverFingerprint: value('MARINA_LXD_FINGERPRINT'),
    bridge: value('MARINA_LXD_BRIDGE'),
    storagePool: value('MARINA_LXD_POOL'),
    lxcfs: value('MARINA_LXCFS') === '1',
    kernelModules: value('MARINA_LXD_MODULE_LOADING') === '1' ? undefined : [],
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
