import { rm } from 'node:fs/promises';
import { runCommand } from './commands.js';
import { runningPid } from './daemons.js';
import { apiserverDaemon, ensureControlPlane, stopControlPlane } from './control-plane.js';
import { deleteAllBays, ensureOperator, stopOperator } from './cluster.js';
import { lxdAnswers } from './host.js';
import { PLAYGROUND_NETWORK, type PlaygroundPaths } from './paths.js';
import { readState, stepPrinter } from './up.js';

interface LxcInstance {
  readonly name: string;
  readonly config: Record<string, string>;
  readonly expanded_devices?: Record<string, Record<string, string>>;
}

/**
 * Removes the playground: its bays first (the operator deletes their nodes and Secrets), then the
 * operator, the control plane, any node left on the playground's bridge, the bridge, the daemons
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
      `nodes left on ${PLAYGROUND_NETWORK.bridge}, and the bridge`,
      async () => {
        const swept = await sweepPlaygroundInstances();
        const network = await runCommand('lxc', ['network', 'delete', PLAYGROUND_NETWORK.bridge]);
        if (network.code !== 0 && !/not found/i.test(network.stderr)) problems.push(`bridge: ${network.stderr.trim()}`);
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

/** marina's nodes attached to the playground's bridge, whatever bay they were for. */
async function sweepPlaygroundInstances(): Promise<string[]> {
  const listed = await runCommand('lxc', ['list', '--format', 'json']);
  if (listed.code !== 0) return [];
  const ours = (JSON.parse(listed.stdout) as LxcInstance[]).filter(
    (i) =>
      i.config['user.marina.bay.uid'] !== undefined &&
      Object.values(i.expanded_devices ?? {}).some(
        (d) => d['network'] === PLAYGROUND_NETWORK.bridge || d['parent'] === PLAYGROUND_NETWORK.bridge,
      ),
  );
  for (const instance of ours) await runCommand('lxc', ['delete', '--force', instance.name]);
  return ours.map((i) => i.name);
}
