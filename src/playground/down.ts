import { rm } from 'node:fs/promises';
import { parseRange, rangesOverlap } from '../hosts/ipv4.js';
import { runCommand } from './commands.js';
import { runningPid } from './daemons.js';
import { apiserverDaemon, ensureControlPlane, stopControlPlane } from './control-plane.js';
import { deleteAllBays, ensureOperator, stopOperator } from './cluster.js';
import { lxdAnswers } from './host.js';
import { PLAYGROUND_NETWORK, type PlaygroundPaths } from './paths.js';
import { readState, stepPrinter } from './up.js';

interface LxcNetwork {
  readonly name: string;
  readonly config: Record<string, string>;
}

interface LxcInstance {
  readonly name: string;
  readonly config: Record<string, string>;
  readonly expanded_devices?: Record<string, Record<string, string>>;
}

/**
 * Removes the playground: its bays first (the operator deletes their nodes and Secrets), then the
 * operator, the control plane, any node left on the playground's networks, the networks, the daemons
 * `marina up` started, and the playground's directory. What was there before `marina up` stays.
 */
export async function playgroundDown(paths: PlaygroundPaths, step = stepPrinter()): Promise<string> {
  const state = await readState(paths);
  if (!state) {
    await rm(paths.dir, { recursive: true, force: true });
    return 'no playground here; nothing to remove\n';
  }
  const problems: string[] = [];
  if ((await runningPid(apiserverDaemon(paths, state.binDir))) !== undefined || (await lxdAnswers())) {
    await step('bays (the operator deletes their nodes and Secrets)', async () => {
      await ensureControlPlane(paths, state.binDir);
      await ensureOperator(paths).catch(() => false);
      const left = await deleteAllBays(state.binDir, paths.adminKubeconfig);
      if (left) problems.push(`bays not deleted: ${left}`);
    });
  }
  await step(
    'operator and control plane',
    async () => {
      const stopped = [
        ...((await stopOperator(paths)) ? ['marina-operator'] : []),
        ...(await stopControlPlane(paths, state.binDir)),
      ];
      return stopped;
    },
    (stopped) => (stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'not running'),
  );
  if (await lxdAnswers()) {
    await step(
      `nodes left on the playground's networks, and the networks`,
      async () => {
        const bayBridges = await playgroundBayBridges();
        const swept = await sweepPlaygroundInstances([PLAYGROUND_NETWORK.bridge, ...bayBridges]);
        for (const [kind, name] of [
          ...bayBridges.map((b) => ['network', b]),
          ...bayBridges.map((b) => ['network acl', b]),
          ['network', PLAYGROUND_NETWORK.bridge],
        ] as const) {
          const deleted = await runCommand('lxc', [...kind.split(' '), 'delete', name]);
          if (deleted.code !== 0 && !/not found/i.test(deleted.stderr)) {
            problems.push(`${kind} ${name}: ${deleted.stderr.trim()}`);
          }
        }
        return swept;
      },
      (swept) => (swept.length > 0 ? `deleted ${swept.join(', ')}` : 'no node was left'),
    );
  }
  if (state.startedLxd || state.startedLxcfs) {
    await step('daemons marina up started (LXD, lxcfs)', async () => {
      if (state.startedLxd) await runCommand('lxd', ['shutdown'], { timeoutMs: 120_000 });
      if (state.startedLxcfs) await runCommand('umount', ['/var/lib/lxcfs']);
    });
  }
  await rm(paths.dir, { recursive: true, force: true });
  return problems.length > 0
    ? `marina playground removed, except:\n${problems.map((p) => `  ${p}\n`).join('')}`
    : 'marina playground removed: no process, node, network or file of it is left\n';
}

/** Bays' own bridges (isolated mode) that marina made in the playground's subnet pool. */
async function playgroundBayBridges(): Promise<string[]> {
  const listed = await runCommand('lxc', ['network', 'list', '--format', 'json']);
  if (listed.code !== 0) return [];
  const pool = parseRange(PLAYGROUND_NETWORK.subnetPool);
  const inPool = (address: string | undefined): boolean => {
    try {
      return address !== undefined && rangesOverlap(parseRange(address), pool);
    } catch {
      return false;
    }
  };
  return (JSON.parse(listed.stdout) as LxcNetwork[])
    .filter((n) => n.config['user.marina.bay.uid'] !== undefined && inPool(n.config['ipv4.address']))
    .map((n) => n.name);
}

/** marina's nodes attached to the playground's networks, whatever bay they were for. */
async function sweepPlaygroundInstances(networks: readonly string[]): Promise<string[]> {
  const listed = await runCommand('lxc', ['list', '--format', 'json']);
  if (listed.code !== 0) return [];
  const ours = (JSON.parse(listed.stdout) as LxcInstance[]).filter(
    (i) =>
      i.config['user.marina.bay.uid'] !== undefined &&
      Object.values(i.expanded_devices ?? {}).some(
        (d) => networks.includes(d['network'] ?? '') || networks.includes(d['parent'] ?? ''),
      ),
  );
  for (const instance of ours) await runCommand('lxc', ['delete', '--force', instance.name]);
  return ours.map((i) => i.name);
}
