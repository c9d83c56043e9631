/** Exponential backoff: the delay doubles per failure from `baseMs` up to `maxMs`. */
export interface BackoffPolicy {
  readonly baseMs: number;
  readonly maxMs: number;
}

export function exponentialDelay(policy: BackoffPolicy, failures: number): number {
  // Beyond 2^52 the multiplication stops being exact; the cap is reached long before.
  return Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures, 52));
}

/**
 * Reconnect delays for one stream. Jitter spreads the reconnects of many replicas (and many watches
 * of one replica) after an apiserver restart, so they do not all arrive in the same instant: each
 * delay is drawn uniformly from the upper half of the exponential step.
 */
export class JitteredBackoff {
  private failures = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const step = exponentialDelay(this.policy, this.failures++);
    return step / 2 + (this.random() * step) / 2;
  }

  reset(): void {
    this.failures = 0;
  }
}

/**
 * Per-key retry delays for the workqueue (controller-runtime's ItemExponentialFailureRateLimiter):
 * each key backs off on its own, so one broken object does not slow down the others.
 */
export class PerKeyBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly policy: BackoffPolicy) {}

  /** The delay before the next retry of `key`, counting this failure. */
  when(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    return exponentialDelay(this.policy, failures);
  }

  retries(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts again from the base delay. */
  forget(key: string): void {
    this.failures.delete(key);
  }
}
