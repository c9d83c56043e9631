import { DEFAULT_LATENCY, type LatencyClass, type LatencyConfig, type LatencySpec } from './config.js';

/**
 * Simulated calls wait on real timers, so that concurrent callers interleave (and race) the way
 * they do against real hosts; a zero latency still yields to the event loop once.
 */
export class Latency {
  private readonly config: LatencyConfig;

  constructor(overrides: Partial<LatencyConfig> = {}) {
    this.config = { ...DEFAULT_LATENCY, ...overrides };
  }

  /** One draw for a call of this class, in milliseconds. */
  draw(kind: LatencyClass): number {
    return drawMs(this.config[kind]);
  }

  /** Waits one draw; an aborted signal ends the wait early with the signal's reason. */
  wait(kind: LatencyClass, signal?: AbortSignal): Promise<void> {
    return sleep(this.draw(kind), signal);
  }
}

function drawMs(spec: LatencySpec): number {
  if (typeof spec === 'number') return Math.max(0, spec);
  const offset = (Math.random() * 2 - 1) * spec.jitterMs;
  return Math.max(0, spec.ms + offset);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    const done = (): void => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = ms <= 0 ? setImmediate(done) : setTimeout(done, ms);
    const aborted = (): void => {
      if (ms <= 0) clearImmediate(timer as NodeJS.Immediate);
      else clearTimeout(timer as NodeJS.Timeout);
      reject(abortError(signal!));
    };
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/** What Node's http client rejects with when a request's signal aborts it. */
export function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}
