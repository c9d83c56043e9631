import type { ExecOptions, ExecResult } from '../types.js';
import { HostOperationError } from '../errors.js';
import type { InstanceExecPost, LxdOperation } from './api-types.js';
import type { CallContext, LxdClient } from './client.js';

export const DEFAULT_EXEC_TIMEOUT_MS = 60_000;

interface ExecOperationMetadata {
  readonly return?: number;
  /** fd number ("1", "2") → URL of the recorded output on the host. */
  readonly output?: Record<string, string>;
}

/**
 * Runs a command without websockets: `record-output` makes the host write stdout and stderr to log
 * files and `wait-for-websocket: false` starts the process at once with stdin on /dev/null. After
 * the operation finished, its metadata holds the exit code (`return`) and the log URLs, which are read
 * and then deleted (they would pile up on the host otherwise).
 */
export async function execInInstance(
  client: LxdClient,
  instance: string,
  command: readonly string[],
  options: ExecOptions = {},
): Promise<ExecResult> {
  const call: CallContext = { operation: 'exec', instance };
  const body: InstanceExecPost = {
    command,
    environment: { ...options.env },
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    'wait-for-websocket': false,
    'record-output': true,
    interactive: false,
  };
  const operation = await runExec(client, instance, body, call, options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
  const metadata = (operation.metadata ?? {}) as ExecOperationMetadata;
  if (typeof metadata.return !== 'number') {
    throw new HostOperationError(client.context(call), `the host reported no exit code for ${command[0] ?? ''}`);
  }
  const [stdout, stderr] = await Promise.all([
    takeOutput(client, metadata.output?.['1'], call),
    takeOutput(client, metadata.output?.['2'], call),
  ]);
  return { exitCode: metadata.return, stdout, stderr };
}

/**
 * LXD sometimes fails to attach a command to a container that is still booting ("Failed to retrieve
 * PID of executing child process", seen here within the first second after start; canonical/lxd#12084
 * and earlier reports). It is submitted again. The command may have run all the same (seen in a test:
 * an `ip address add` whose second run found the address assigned), so only commands that may run twice
 * come here: marina's are probes, reads and a restart of dockerd.
 */
const ATTACH_RETRIES = 3;
const ATTACH_FAILURE = /Failed to retrieve PID of executing child process/;

async function runExec(
  client: LxdClient,
  instance: string,
  body: InstanceExecPost,
  call: CallContext,
  timeoutMs: number,
): Promise<LxdOperation> {
  const path = `/1.0/instances/${encodeURIComponent(instance)}/exec`;
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.run('POST', path, call, { json: body, operationTimeoutMs: timeoutMs });
    } catch (error) {
      const retry = error instanceof HostOperationError && ATTACH_FAILURE.test(error.message);
      if (!retry || attempt >= ATTACH_RETRIES) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

async function takeOutput(client: LxdClient, url: string | undefined, call: CallContext): Promise<string> {
  if (url === undefined) return '';
  const output = (await client.fetch(url, call)).toString('utf8');
  await deleteLog(client, url, call);
  return output;
}

/** Best effort: a log left behind costs disk space on the host, not correctness. */
async function deleteLog(client: LxdClient, url: string, call: CallContext): Promise<void> {
  try {
    await client.call('DELETE', url, { ...call, operation: 'exec-cleanup' });
  } catch {
    // The exec itself succeeded; the next exec on this instance is unaffected.
  }
}
