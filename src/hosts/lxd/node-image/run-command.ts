import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';

export class CommandFailedError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly logFile: string,
    logTail: string,
  ) {
    super(`${command} failed (exit ${exitCode ?? 'signal'}); see ${logFile}:\n${logTail}`);
    this.name = 'CommandFailedError';
  }
}

const TAIL_LINES = 15;

/**
 * Runs a build step with its output appended to a log file instead of the terminal: debootstrap is
 * chatty, and only its last lines matter when it fails.
 */
export async function runLogged(command: string, args: readonly string[], logFile: string): Promise<void> {
  const log = createWriteStream(logFile, { flags: 'a' });
  await new Promise<void>((resolve) => log.once('open', () => resolve()));
  log.write(`$ ${command} ${args.join(' ')}\n`);
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', log, log] });
    child.once('error', reject);
    child.once('close', resolve);
  });
  await new Promise<void>((resolve) => log.end(resolve));
  if (exitCode !== 0) throw new CommandFailedError(command, exitCode, logFile, await tail(logFile));
}

async function tail(file: string): Promise<string> {
  const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
  return lines.slice(-TAIL_LINES).join('\n');
}
