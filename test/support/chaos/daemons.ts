import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { repoRoot } from '../paths.js';
import { run, waitFor } from '../processes.js';

/**
 * Faults in the daemons a bay depends on, caused the way they happen on a real machine: a daemon
 * restarted, a daemon frozen (a host that stops answering), the apiserver restarted.
 */

/** The LXD daemon tools/setup-lxd-host.sh started (not `lxc` clients, not forkexec helpers). */
async function lxdDaemonPid(): Promise<number> {
  const listed = await run('pgrep', ['-x', 'lxd']);
  const pids = listed.stdout.split('\n').filter(Boolean).map(Number);
  for (const pid of pids) {
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0');
    if (/(^|\/)lxd$/.test(argv[0] ?? '') && argv.includes('--logfile')) return pid;
  }
  throw new Error(`no LXD daemon among ${pids.join(', ')}`);
}

/**
 * Stops the LXD daemon with SIGTERM, as a package upgrade or an admin does, and starts it again with
 * the project's script. Instances keep running through it (their monitors are not the daemon).
 */
export async function restartLxdDaemon(beforeStart?: () => Promise<void>): Promise<void> {
  const daemon = await lxdDaemonPid();
  process.kill(daemon, 'SIGTERM');
  await waitFor('the LXD daemon to exit', async () => (existsSync(`/proc/${daemon}`) ? undefined : true), 60_000);
  await beforeStart?.();
  const started = await run(join(repoRoot, 'tools', 'setup-lxd-host.sh'), [], { timeoutMs: 180_000 });
  if (started.code !== 0) throw new Error(`tools/setup-lxd-host.sh failed (${started.code}): ${started.stderr}`);
}

/**
 * Freezes the LXD daemon (SIGSTOP) for `ms`: its socket still accepts connections and nothing ever
 * answers them, as with a host that hangs or a network that drops packets. Resumed whatever happens.
 */
export async function freezeLxdDaemon<T>(ms: number, during: () => Promise<T>): Promise<T> {
  const daemon = await lxdDaemonPid();
  process.kill(daemon, 'SIGSTOP');
  const thawAt = Date.now() + ms;
  try {
    const result = await during();
    const left = thawAt - Date.now();
    if (left > 0) await new Promise((resolve) => setTimeout(resolve, left));
    return result;
  } finally {
    process.kill(daemon, 'SIGCONT');
  }
}

/** Restarts the kube-apiserver every file of the run shares; etcd keeps every object. */
export async function restartApiserver(): Promise<void> {
  const res = await fetch(`${inject('kubeControlUrl')}/restart-apiserver`, { method: 'POST' });
  if (!res.ok) throw new Error(`restarting the apiserver failed (${res.status}): ${await res.text()}`);
}
