import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { BackoffPolicy } from './backoff.js';
import type { TerminalError } from './errors.js';
import type { EventRecorder } from './events.js';
import type { EventHandler, Informer } from './informer.js';
import type { ControllerMetrics, RuntimeMetrics } from './metrics.js';
import { controllerKeyOf } from './owner-refs.js';
import {
  outcomeOfError,
  outcomeOfResult,
  resultLabel,
  type ReconcileContext,
  type ReconcileOutcome,
  type Reconciler,
  type ReconcileRequest,
} from './reconcile.js';
import type { UpdatePredicate } from './predicates.js';
import { objectKey, parseKey, type KubeObject } from './resource.js';
import { sleep } from './sleep.js';
import { WorkQueue } from './workqueue.js';

/** Maps a changed object of a related kind to the keys of the primary objects it affects. */
export type KeyMapper = (obj: KubeObject) => readonly string[];

export interface RelatedWatch {
  readonly informer: Informer<KubeObject>;
  readonly map: KeyMapper;
  /** Which updates count; every update when absent. */
  readonly updates?: UpdatePredicate;
}

/** Called after a TerminalError, with the primary object as cached (undefined if it is gone). */
export type TerminalErrorHook<T extends KubeObject> = (obj: T | undefined, err: TerminalError, ctx: ReconcileContext) => Promise<void>;

export interface ControllerOptions<T extends KubeObject> {
  /** Names the metrics, the work queue and the log lines. */
  readonly name: string;
  /** The primary kind: each of its objects is one key. */
  readonly for: Informer<T>;
  /** Which updates of primary objects wake the controller; every update when absent. */
  readonly updates?: UpdatePredicate<T>;
  /** Kinds whose objects have a primary object as controller owner reference. */
  readonly owns?: readonly Informer<KubeObject>[];
  /** Other kinds, with a mapper from their objects to primary keys. */
  readonly watches?: readonly RelatedWatch[];
  readonly reconcile: Reconciler;
  readonly maxConcurrentReconciles?: number;
  readonly backoff?: BackoffPolicy;
  /** Records TerminalErrors as Warning Events on the primary object. */
  readonly events?: EventRecorder;
  /** Records TerminalErrors elsewhere too, typically as a condition in the object's status. */
  readonly onTerminalError?: TerminalErrorHook<T>;
  readonly metrics: RuntimeMetrics;
  readonly log: Logger;
}

/**
 * Turns watch events into keys and keys into reconciles: a work queue fed by the primary informer and
 * by owned/related informers, drained by a bounded pool of workers. The outcome of each reconcile
 * decides what happens to its key (see Reconciler).
 */
export class Controller<T extends KubeObject> {
  readonly queue: WorkQueue;
  private readonly log: Logger;
  private readonly metrics: ControllerMetrics;
  private readonly workers: Promise<void>[] = [];
  private readonly aborting = new AbortController();
  private readonly stopping = new AbortController();
  private readonly concurrency: number;

  constructor(private readonly opts: ControllerOptions<T>) {
    this.concurrency = opts.maxConcurrentReconciles ?? 1;
    this.log = opts.log.child({ controller: opts.name });
    this.metrics = opts.metrics.forController(opts.name, this.concurrency);
    this.queue = new WorkQueue({ backoff: opts.backoff, metrics: opts.metrics.forWorkQueue(opts.name) });
    opts.for.addEventHandler(this.enqueueing((obj) => [objectKey(obj)], opts.updates as UpdatePredicate | undefined));
    const primary = opts.for.resource;
    for (const informer of opts.owns ?? []) {
      informer.addEventHandler(this.enqueueing((obj) => [controllerKeyOf(obj, primary)].filter((k) => k !== undefined)));
    }
    for (const { informer, map, updates } of opts.watches ?? []) informer.addEventHandler(this.enqueueing(map, updates));
  }

  private get informers(): Informer<KubeObject>[] {
    return [this.opts.for, ...(this.opts.owns ?? []), ...(this.opts.watches ?? []).map((w) => w.informer)];
  }

  /** Starts the workers once every informer of this controller has synced. */
  async start(): Promise<void> {
    for (const informer of this.informers) {
      if (!(await informer.waitForSync(this.stopping.signal))) return;
    }
    if (this.stopping.signal.aborted) return;
    this.log.info({ workers: this.concurrency }, 'starting workers');
    for (let i = 0; i < this.concurrency; i++) this.workers.push(this.work());
  }

  /**
   * Takes no more work and waits for the reconciles in flight; past `drainTimeoutMs` their signal is
   * aborted and the controller returns without them.
   */
  async stop(drainTimeoutMs: number): Promise<void> {
    this.stopping.abort();
    const timer = new AbortController();
    const drained = Promise.all([this.queue.shutDown(), ...this.workers]).then(() => true);
    const inTime = await Promise.race([drained, sleep(drainTimeoutMs, timer.signal).then(() => false)]);
    timer.abort(); // a pending timer would keep the process alive after a clean shutdown
    if (!inTime) {
      this.log.warn({ drainTimeoutMs }, 'reconciles still running at the drain timeout; aborting them');
      this.abort();
    }
  }

  /** Stops at once: leadership is gone, so in-flight reconciles must not write anything more. */
  abort(): void {
    this.stopping.abort();
    this.aborting.abort();
    void this.queue.shutDown();
  }

  private enqueueing(map: KeyMapper, updates?: UpdatePredicate): EventHandler<KubeObject> {
    const enqueue = (...objs: KubeObject[]): void => {
      for (const key of new Set(objs.flatMap(map))) this.queue.add(key);
    };
    return {
      onAdd: (obj) => enqueue(obj),
      // Both sides: a changed owner reference or label moves the object from one primary to another.
      onUpdate: (oldObj, newObj) => {
        if (!updates || updates(oldObj, newObj)) enqueue(oldObj, newObj);
      },
      onDelete: (obj) => enqueue(obj),
    };
  }

  private async work(): Promise<void> {
    for (let key = await this.queue.get(); key !== undefined; key = await this.queue.get()) {
      try {
        await this.process(key);
      } finally {
        this.queue.done(key);
      }
    }
  }

  private async process(key: string): Promise<void> {
    const reconcileId = randomUUID();
    const req: ReconcileRequest = { key, ...parseKey(key) };
    const log = this.log.child({ reconcileID: reconcileId, namespace: req.namespace, name: req.name });
    const ctx: ReconcileContext = { log, reconcileId, signal: this.aborting.signal };
    const startedAt = performance.now();
    this.metrics.workerStarted();
    let outcome: ReconcileOutcome;
    try {
      outcome = outcomeOfResult(await this.opts.reconcile(req, ctx));
    } catch (err) {
      outcome = outcomeOfError(err);
    } finally {
      this.metrics.workerFinished();
    }
    this.metrics.reconciled(resultLabel(outcome), (performance.now() - startedAt) / 1000);
    await this.settle(key, outcome, ctx);
  }

  private async settle(key: string, outcome: ReconcileOutcome, ctx: ReconcileContext): Promise<void> {
    switch (outcome.kind) {
      case 'success':
        this.queue.forget(key);
        return;
      case 'gone':
        ctx.log.debug('object not found; nothing to do');
        this.queue.forget(key);
        return;
      case 'requeueAfter':
        this.queue.forget(key);
        this.queue.addAfter(key, outcome.delayMs);
        return;
      case 'retry':
        this.metrics.failed(false);
        ctx.log.error({ err: outcome.error, retries: this.queue.numRequeues(key) }, 'reconcile failed; retrying with backoff');
        this.queue.addRateLimited(key);
        return;
      case 'terminal':
        this.metrics.failed(true);
        ctx.log.error({ err: outcome.error, reason: outcome.error.reason }, 'reconcile failed terminally; not retrying');
        this.queue.forget(key);
        await this.recordTerminal(key, outcome.error, ctx);
        return;
    }
  }

  private async recordTerminal(key: string, err: TerminalError, ctx: ReconcileContext): Promise<void> {
    const obj = this.opts.for.get(key);
    if (obj && this.opts.events) {
      await this.opts.events.record(obj, { type: 'Warning', reason: err.reason, action: 'Reconcile', note: err.message });
    }
    try {
      await this.opts.onTerminalError?.(obj, err, ctx);
    } catch (hookErr) {
      ctx.log.error({ err: hookErr }, 'recording the terminal error failed');
    }
  }
}
