import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultCacheRoot } from '../../src/hosts/lxd/node-image/cache.js';
import { ManagedProcess, run, waitFor, type RunResult } from './processes.js';

/** A Docker engine on this machine, private to the test run. */
export interface DockerEngine {
  /** For `docker -H` and DOCKER_HOST. */
  readonly host: string;
  docker(args: readonly string[]): Promise<RunResult>;
  stop(): Promise<void>;
}

/**
 * Starts dockerd (from the docker.io package) with its own socket and state, and without touching the
 * host's network: no bridge, no iptables rules (Docker's FORWARD policy would cut off the LXD nodes),
 * so containers run with --network host. Images stay in the cache between runs.
 */
export async function startDockerEngine(): Promise<DockerEngine> {
  const root = join(defaultCacheRoot(), 'test-dockerd');
  const execRoot = '/run/marina-test-dockerd';
  await mkdir(root, { recursive: true });
  const host = `unix://${execRoot}.sock`;
  const engine = new ManagedProcess(
    'dockerd',
    'dockerd',
    [
      `--data-root=${join(root, 'data')}`,
      `--exec-root=${execRoot}`,
      `--pidfile=${execRoot}.pid`,
      `--host=${host}`,
      '--iptables=false',
      '--ip6tables=false',
      '--ip-forward=false',
      '--ip-masq=false',
      '--bridge=none',
    ],
    join(root, 'dockerd.log'),
  );
  engine.start();
  const docker = (args: readonly string[]): Promise<RunResult> =>
    run('docker', ['-H', host, ...args], { timeoutMs: 300_000 });
  try {
    await waitFor(
      'dockerd to answer',
      async () => ((await docker(['version'])).code === 0 ? true : undefined),
      60_000,
      250,
    );
  } catch (err) {
    await engine.stop();
    throw new Error(`${(err as Error).message}\n--- dockerd log ---\n${engine.logTail()}`);
  }
  const stop = async (): Promise<void> => {
    await engine.stop(15_000);
    // dockerd leaves its host network namespace bind-mounted in its exec root.
    await run('umount', [join(execRoot, 'netns', 'default')]).catch(() => undefined);
    await rm(execRoot, { recursive: true, force: true });
  };
  return { host, docker, stop };
}
