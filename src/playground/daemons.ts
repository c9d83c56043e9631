import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';

/** A process the playground keeps running after `marina up` exits, found again by its pid file. */
export interface Daemon {
  readonly name: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** Directory of the pid file. */
  readonly runDir: string;
  /** Directory of the log file (appended to across restarts). */
  readonly logDir: string;
}

const pidFile = (d: Daemon): string => join(d.runDir, `${d.name}.pid`);
export const logFile = (d: Daemon): string => join(d.logDir, `${d.name}.log`);

/**
 * The daemon's pid when its pid file names a live process that is still this daemon: a pid reused by
 * something else after a reboot is not taken for it.
 */
export async function runningPid(d: Daemon): Promise<number | undefined> {
  const pid = Number((await readFile(pidFile(d), 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  const argv = cmdline.split('\0');
  const sameProgram = argv.some((arg) => arg === d.command || basename(arg) === basename(d.command));
  const sameFirstArg = d.args.length === 0 || argv.includes(d.args[0]!);
  return sameProgram && sameFirstArg ? pid : undefined;
}

/** Starts the daemon detached (its own session, output to its log) and records its pid. */
export async function startDaemon(d: Daemon): Promise<number> {
  const log = openSync(logFile(d), 'a');
  try {
    const child = spawn(d.command, [...d.args], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, ...d.env },
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`${d.name} did not start (${d.command})`);
    child.unref();
    await writeFile(pidFile(d), `${pid}\n`);
    return pid;
  } finally {
    closeSync(log);
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; true when a process was stopped. */
export async function stopDaemon(d: Daemon, graceMs = 15_000): Promise<boolean> {
  const pid = await runningPid(d);
  await rm(pidFile(d), { force: true });
  if (pid === undefined) return false;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive()) process.kill(pid, 'SIGKILL');
  return true;
}
