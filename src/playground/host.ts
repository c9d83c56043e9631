import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { hostCapabilities } from '../controllers/aggregate/capabilities.js';
import { KERNEL_FEATURE_PROBE, KERNEL_FEATURES } from '../hosts/index.js';
import { runCommand, mustRun } from './commands.js';
import { PLAYGROUND_AGGREGATE, PLAYGROUND_NETWORK, repoRoot } from './paths.js';

/** What tools/setup-lxd-host.sh reports about this machine as a node host. */
export interface LocalHost {
  readonly socket: string;
  readonly bridge: string;
  readonly pool: string;
  readonly lxcfs: boolean;
  /** false: the kernel cannot load modules, so nodes are created without linux.kernel_modules. */
  readonly moduleLoading: boolean;
  /** Modules swarm features need that this kernel has neither loaded nor built in. */
  readonly missingModules: readonly string[];
}

/** Whether an LXD daemon answers on this machine now. */
export async function lxdAnswers(): Promise<boolean> {
  return (await runCommand('lxc', ['query', '/1.0'], { timeoutMs: 10_000 })).code === 0;
}

export async function lxcfsMounted(): Promise<boolean> {
  return (await readFile('/proc/mounts', 'utf8')).includes(' /var/lib/lxcfs fuse.lxcfs ');
}

/** The LXD daemon, the playground's bridge and the storage pool (tools/setup-lxd-host.sh, idempotent). */
export async function ensureLocalHost(): Promise<LocalHost> {
  const out = await mustRun('bash', [join(repoRoot, 'tools', 'setup-lxd-host.sh')], {
    env: { MARINA_LXD_BRIDGE: PLAYGROUND_NETWORK.bridge, MARINA_LXD_SUBNET: PLAYGROUND_NETWORK.subnet },
    timeoutMs: 30 * 60_000,
  });
  const value = (key: string): string => out.match(new RegExp(`^${key}=(.*)$`, 'm'))?.[1]?.trim() ?? '';
  return {
    socket: value('MARINA_LXD_SOCKET'),
    bridge: value('MARINA_LXD_BRIDGE'),
    pool: value('MARINA_LXD_POOL'),
    lxcfs: value('MARINA_LXCFS') === '1',
    moduleLoading: value('MARINA_LXD_MODULE_LOADING') === '1',
    missingModules: await missingKernelModules(),
  };
}

/**
 * The swarm kernel features this machine lacks: not loaded or built in (the same probe the aggregate
 * runs inside a node), and not loadable either (LXD loads listed modules when a node starts).
 */
async function missingKernelModules(): Promise<string[]> {
  const [program, ...args] = KERNEL_FEATURE_PROBE;
  const present = (await mustRun(program!, args)).split('\n').map((l) => l.trim());
  const missing: string[] = [];
  for (const module of KERNEL_FEATURES.filter((m) => !present.includes(m))) {
    if ((await runCommand('modprobe', ['--dry-run', module])).code !== 0) missing.push(module);
  }
  return missing;
}

/**
 * The HostAggregate for this machine, its settings taken from what the host can do: no kernel modules
 * listed where the kernel cannot load any (LXD would run modprobe at every start and fail).
 */
export function localAggregateYaml(host: LocalHost): string {
  return `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata:
  name: ${PLAYGROUND_AGGREGATE}
spec:
  provider: lxd
  metadata: {flavor: container, zone: local}
  hosts:
    - name: localhost
      endpoint: ${host.socket}
  # Each bay on a bridge of its own, walled off from the others (docs/network.md).
  network: {mode: isolated, subnetPool: ${PLAYGROUND_NETWORK.subnetPool}}
  storagePool: ${host.pool}
  overcommit: {cpu: 4, memory: 1}
${host.moduleLoading ? '' : '  kernelModules: []\n'}`;
}

/** What a newcomer should know about this host before running services on it. */
export function hostNotes(host: LocalHost): string[] {
  const notes: string[] = [];
  if (!host.moduleLoading) notes.push('the kernel cannot load modules: nodes are created without linux.kernel_modules');
  // In the words the HostAggregate's status uses for the same lack.
  const present = KERNEL_FEATURES.filter((m) => !host.missingModules.includes(m));
  notes.push(...(hostCapabilities(undefined, present).warnings ?? []));
  if (!host.lxcfs) notes.push("no lxcfs: nodes see the host's CPUs and memory in /proc (limits still apply)");
  return notes;
}
