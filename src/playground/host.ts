import { access } from 'node:fs/promises';
import { join } from 'node:path';
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
  return (await runCommand('grep', ['-qs', ' /var/lib/lxcfs fuse.lxcfs ', '/proc/mounts'])).code === 0;
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
    missingModules: await missingKernelModules(['ip_vs', 'br_netfilter', 'overlay', 'vxlan']),
  };
}

/** A module is there when loaded (or built in: /sys/module has it either way) or loadable by modprobe. */
async function missingKernelModules(modules: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const module of modules) {
    const present = await access(`/sys/module/${module}`).then(
      () => true,
      () => false,
    );
    if (present) continue;
    const loadable = (await runCommand('modprobe', ['--dry-run', module])).code === 0;
    if (!loadable) missing.push(module);
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
  network: {bridge: ${host.bridge}}
  storagePool: ${host.pool}
  overcommit: {cpu: 4, memory: 1}
${host.moduleLoading ? '' : '  kernelModules: []\n'}`;
}

/** What a newcomer should know about this host before running services on it. */
export function hostNotes(host: LocalHost): string[] {
  const notes: string[] = [];
  if (!host.moduleLoading) notes.push('the kernel cannot load modules: nodes are created without linux.kernel_modules');
  if (host.missingModules.includes('ip_vs')) {
    notes.push('no ip_vs: the swarm routing mesh (published VIP ports) does not work here; publish with mode=host');
  }
  const others = host.missingModules.filter((m) => m !== 'ip_vs');
  if (others.length > 0) notes.push(`missing kernel modules: ${others.join(', ')}`);
  if (!host.lxcfs) notes.push("no lxcfs: nodes see the host's CPUs and memory in /proc (limits still apply)");
  return notes;
}
