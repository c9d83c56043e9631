import { PerKeyBackoff, type BackoffPolicy } from './backoff.js';

/** What a work queue reports; implemented by the Prometheus metrics, optional in tests. */
export interface WorkQueueMetrics {
  depth(n: number): void;
  added(): void;
  retried(): void;
  /** Seconds a key waited between becoming ready and a worker taking it. */
  queued(seconds: number): void;
  /** Seconds a worker held a key. */
  worked(seconds: number): void;
}

export interface WorkQueueOptions {
  readonly backoff?: BackoffPolicy;
  readonly metrics?: WorkQueueMetrics;
}

// controller-runtime starts at 5 ms; its 1000 s cap is long for an operator whose failures are
// mostly a host that is briefly unreachable, so retries here are at most 5 minutes apart.
const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 5, maxMs: 300_000 };

const NO_METRICS: WorkQueueMetrics = { depth() {}, added() {}, retried() {}, queued() {}, worked() {} };

/**
 * client-go's rate-limited delaying work queue. A key is queued at most once; a key is held by at most
 * one worker, and a key added while held is queued again when the worker is `done` with it. Keys
 * come out in the order they became ready.
 */
export class WorkQueue {
  // A Set keeps insertion order and answers `has` in O(1): it is the FIFO and the dedup at once.
  private readonly ready = new Set<string>();
  private readonly readySince = new Map<string, number>();
  private readonly processing = new Map<string, number>();
  private readonly addedWhileProcessing = new Set<string>();
  private readonly delayed = new Map<string, { readonly readyAt: number; readonly timer: NodeJS.Timeout }>();
  private readonly waitingWorkers: Array<() => void> = [];
  private readonly backoff: PerKeyBackoff;
  private readonly metrics: WorkQueueMetrics;
  private shuttingDown = false;
  private drained: (() => void) | undefined;

  constructor(opts: WorkQueueOptions = {}) {
    this.backoff = new PerKeyBackoff(opts.backoff ?? DEFAULT_BACKOFF);
    this.metrics = opts.metrics ?? NO_METRICS;
  }

  /** Keys ready and waiting for a worker. */
  get length(): number {
    return this.ready.size;
  }

  add(key: string): void {
    if (this.shuttingDown || this.ready.has(key) || this.addedWhileProcessing.has(key)) return;
    this.metrics.added();
    if (this.processing.has(key)) this.addedWhileProcessing.add(key);
    else this.makeReady(key);
  }

  /** Adds `key` after `delayMs`. When the key is already waiting, the earlier of the two times wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const readyAt = Date.now() + delayMs;
    const waiting = this.delayed.get(key);
    if (waiting && waiting.readyAt <= readyAt) return;
    if (waiting) clearTimeout(waiting.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { readyAt, timer });
  }

  /** Adds `key` after its own exponential backoff, which grows with each call until `forget`. */
  addRateLimited(key: string): void {
    if (this.shuttingDown) return;
    this.metrics.retried();
    this.addAfter(key, this.backoff.when(key));
  }

  /** The key succeeded: its backoff starts over. */
  forget(key: string): void {
    this.backoff.forget(key);
  }

  numRequeues(key: string): number {
    return this.backoff.retries(key);
  }

  /** The next ready key, once there is one; undefined once the queue is shutting down. */
  async get(): Promise<string | undefined> {
    for (;;) {
      if (this.shuttingDown) return undefined;
      const next = this.ready.values().next();
      if (!next.done) {
        this.take(next.value);
        return next.value;
      }
      // Woken, not handed a key: the key stays queued (and adds of it de-duplicated) until the
      // worker actually runs, as in client-go. Another worker may have taken it by then.
      await new Promise<void>((resolve) => this.waitingWorkers.push(resolve));
    }
  }

  /** The worker is finished with `key`; a key added meanwhile becomes ready again. */
  done(key: string): void {
    const startedAt = this.processing.get(key);
    if (startedAt === undefined) return;
    this.processing.delete(key);
    this.metrics.worked((Date.now() - startedAt) / 1000);
    if (this.addedWhileProcessing.delete(key)) this.makeReady(key);
    if (this.shuttingDown && this.processing.size === 0) this.drained?.();
  }

  /**
   * Stops handing out work: waiting workers get undefined, queued and delayed keys are dropped (the
   * next leader lists everything anyway). Resolves when every key held by a worker is `done`.
   */
  shutDown(): Promise<void> {
    if (!this.shuttingDown) {
      this.shuttingDown = true;
      for (const { timer } of this.delayed.values()) clearTimeout(timer);
      this.delayed.clear();
      this.ready.clear();
      this.readySince.clear();
      this.addedWhileProcessing.clear();
      this.metrics.depth(0);
      for (const wake of this.waitingWorkers.splice(0)) wake();
    }
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.drained;
      this.drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  /**
   * A key that runs now has no use for a retry or requeue still pending: the run decides its own next
   * step. Kept, the old timer would fire a second run shortly after (client-go keeps it; a failing key
   * woken by an event would then be retried twice per backoff step).
   */
  private makeReady(key: string): void {
    if (this.shuttingDown) return;
    const waiting = this.delayed.get(key);
    if (waiting) {
      clearTimeout(waiting.timer);
      this.delayed.delete(key);
    }
    this.ready.add(key);
    this.readySince.set(key, Date.now());
    this.metrics.depth(this.ready.size);
    this.waitingWorkers.shift()?.();
  }

  private take(key: string): void {
    this.ready.delete(key);
    this.metrics.queued((Date.now() - (this.readySince.get(key) ?? Date.now())) / 1000);
    this.readySince.delete(key);
    this.metrics.depth(this.ready.size);
    this.processing.set(key, Date.now());
  }
}
