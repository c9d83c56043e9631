import type Docker from 'dockerode';
import type { DockerClient } from './client.js';
import { callDocker } from './call.js';
import { SwarmError } from './errors.js';
import { sleep } from './sleep.js';

/** One ping may take this long; a dockerd that accepts connections but hangs must not eat the whole deadline. */
const PING_TIMEOUT_MS = 5_000;
/**
 * Between attempts. A booting node's dockerd refuses connections until it listens, which costs nothing
 * to try, and every node of a new bay waits here on the way to Ready: a short pause is a quicker bay.
 */
const DEFAULT_INTERVAL_MS = 150;

export interface DockerdVersion {
  readonly version: string;
  readonly apiVersion: string;
}

/**
 * Pings dockerd over mutual TLS until it answers or `deadline` passes, e.g. after a restart with new
 * certificates. Every failure is retried until then (a TLS error too: dockerd may still be serving
 * the old certificate); the last one is reported with the timeout.
 */
export async function waitForDocker(client: DockerClient, deadline: Date, options: { readonly intervalMs?: number } = {}): Promise<DockerdVersion> {
  const context = { operation: 'wait-for-docker' };
  let lastError: SwarmError | undefined;
  for (;;) {
    const remaining = deadline.getTime() - Date.now();
    if (remaining <= 0) break;
    try {
      await callDocker(client, context, (docker) => ping(docker, AbortSignal.timeout(Math.min(remaining, PING_TIMEOUT_MS))));
      const version = await callDocker(client, context, (docker) => docker.version());
      return { version: version.Version, apiVersion: version.ApiVersion };
    } catch (error) {
      // An attempt cut short by the deadline says less than the failure before it.
      if (lastError === undefined || (error as SwarmError).code !== 'timeout') lastError = error as SwarmError;
    }
    await sleep(Math.min(options.intervalMs ?? DEFAULT_INTERVAL_MS, deadline.getTime() - Date.now()));
  }
  const last = lastError === undefined ? '' : `; last error: ${lastError.message}`;
  throw new SwarmError('timeout', { address: client.endpoint, operation: context.operation }, `no answer over TLS by ${deadline.toISOString()}${last}`, {
    cause: lastError,
  });
}

/** dockerode 5 accepts `{abortSignal}` on ping; @types/dockerode does not declare the argument. */
function ping(docker: Docker, abortSignal: AbortSignal): Promise<unknown> {
  const withOptions = docker.ping as unknown as (this: Docker, options: { abortSignal: AbortSignal }) => Promise<unknown>;
  return withOptions.call(docker, { abortSignal });
}
