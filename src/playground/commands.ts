import { execFile } from 'node:child_process';

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program to completion; never throws for a non-zero exit (the caller decides). */
export function runCommand(
  command: string,
  args: readonly string[],
  options: { readonly input?: string; readonly env?: NodeJS.ProcessEnv; readonly timeoutMs?: number } = {},
): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      { env: { ...process.env, ...options.env }, maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({
          code,
          stdout: stdout.toString(),
          stderr: stderr.toString() || (error && code !== 0 ? error.message : ''),
        });
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/** Runs a program and returns its stdout, or throws with what it printed on stderr. */
export async function mustRun(
  command: string,
  args: readonly string[],
  options: Parameters<typeof runCommand>[2] = {},
): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const shown = [command.split('/').pop(), ...args.slice(0, 4)].join(' ');
    throw new Error(`${shown} failed (exit ${result.code}): ${result.stderr.trim().slice(-2000)}`);
  }
  return result.stdout;
}
