import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { JitteredBackoff, type BackoffPolicy } from './backoff.js';
import { ApiError, WatchClosedError, WatchStalledError, isGone } from './errors.js';
import type { KubeClient } from './kube-client.js';
import { apiVersionOf, collectionPath, type KubeObject, type ObjectMeta, type ResourceType } from './resource.js';
import { sleep } from './sleep.js';
import { Watchdog } from './watchdog.js';
import { WatchDecoder, type WatchEvent } from './watch-decoder.js';

/** Receives what the reflector learns: whole lists and single watch events, in order. */
export interface ReflectorSink<T extends KubeObject> {
  /** A complete, consistent list (the first sync, or a relist after 410 Gone). */
  replace(items: T[]): void;
  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void;
}

export interface ReflectorTuning {
  /** Page size of lists. */
  readonly pageSize?: number;
  /** The server-side watch timeout; drawn anew for each watch so replicas do not reconnect in step. */
  readonly watchTimeoutSeconds?: () => number;
  /** A watch silent for this long (no event, no bookmark) is cut and reopened; also the /healthz limit. */
  readonly stallTimeoutMs?: number;
  readonly reconnectBackoff?: BackoffPolicy;
}

export interface ReflectorOptions extends ReflectorTuning {
  readonly client: KubeClient;
  readonly resource: ResourceType;
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly log: Logger;
}

export interface ReflectorStats {
  lists: number;
  watches: number;
  relistsAfterGone: number;
  stalls: number;
  errors: number;
}

// client-go's choices: watches last 5 to 10 minutes; reconnects back off from 0.8 s to 30 s. The
// apiserver sends a bookmark every minute once a watch is running (the first one may take two), so
// three minutes of silence means the stream is dead.
const DEFAULT_WATCH_TIMEOUT = (): number => Math.floor(300 * (1 + Math.random()));
const DEFAULT_STALL_TIMEOUT_MS = 180_000;
const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 800, maxMs: 30_000 };
const EMPTY_WATCH_MS = 1_000;

/**
 * Keeps a sink in step with one collection: a paginated list, then a watch resumed from the last
 * resourceVersion, forever. 410 Gone relists (the sink synthesises deletes for what vanished); any
 * other failure reconnects with jittered backoff. It only ever stops when told to.
 */
export class Reflector<T extends KubeObject> {
  readonly stats: ReflectorStats = { lists: 0, watches: 0, relistsAfterGone: 0, stalls: 0, errors: 0 };
  private resourceVersion = '';
  private lastActivityAt = Date.now();
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private readonly backoff: JitteredBackoff;
  private readonly path: string;
  private readonly typeMeta: { apiVersion: string; kind: string };

  constructor(
    private readonly opts: ReflectorOptions,
    private readonly sink: ReflectorSink<T>,
  ) {
    this.backoff = new JitteredBackoff(opts.reconnectBackoff ?? DEFAULT_BACKOFF);
    this.path = collectionPath(opts.resource, opts.namespace);
    this.typeMeta = { apiVersion: apiVersionOf(opts.resource), kind: opts.resource.kind };
  }

  start(): void {
    if (this.loop) return;
    this.markAlive();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('reflector stopped'));
    await this.loop;
  }

  /** How long the apiserver has said nothing to this reflector. */
  get silentForMs(): number {
    return Date.now() - this.lastActivityAt;
  }

  /** True when the reflector has been without news longer than the watchdog allows. */
  isStalled(): boolean {
    return this.silentForMs > this.stallTimeoutMs;
  }

  private get stallTimeoutMs(): number {
    return this.opts.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.listAll();
        needList = false;
        await this.watchOnce();
      } catch (err) {
        if (this.stopped) break;
        needList ||= isGone(err);
        await this.recover(err);
      }
    }
  }

  private async recover(err: unknown): Promise<void> {
    if (isGone(err)) {
      this.stats.relistsAfterGone++;
      this.opts.log.info({ resourceVersion: this.resourceVersion }, 'resourceVersion expired, relisting');
      return;
    }
    this.stats.errors++;
    const delayMs = Math.round(this.backoff.next());
    this.opts.log.warn({ err, delayMs, resourceVersion: this.resourceVersion }, 'list/watch failed, reconnecting');
    await sleep(delayMs, this.stopping.signal);
  }

  private async listAll(): Promise<void> {
    const { client, resource, namespace, labelSelector, fieldSelector } = this.opts;
    const items: T[] = [];
    let page: { continue?: string; resourceVersion: string } | undefined;
    do {
      const opts = { namespace, labelSelector, fieldSelector, limit: this.opts.pageSize ?? 500, continue: page?.continue };
      const list = await client.list<T>(resource, opts, this.stopping.signal);
      this.markAlive();
      for (const item of list.items) items.push(this.withTypeMeta(item));
      page = list.metadata;
    } while (page.continue);
    this.sink.replace(items);
    this.resourceVersion = page.resourceVersion;
    this.stats.lists++;
    this.backoff.reset();
  }

  private async watchOnce(): Promise<void> {
    const attempt = new AbortController();
    const stop = (): void => attempt.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener('abort', stop, { once: true });
    // Armed before the request: an apiserver that accepts the connection and never answers is a stall too.
    const watchdog = new Watchdog(this.stallTimeoutMs, () => {
      this.stats.stalls++;
      attempt.abort(new WatchStalledError(this.path, this.stallTimeoutMs));
    });
    try {
      const { client, resource, namespace, labelSelector, fieldSelector } = this.opts;
      const timeoutSeconds = (this.opts.watchTimeoutSeconds ?? DEFAULT_WATCH_TIMEOUT)();
      const res = await client.watch(resource, {
        namespace,
        labelSelector,
        fieldSelector,
        resourceVersion: this.resourceVersion,
        timeoutSeconds,
        signal: attempt.signal,
      });
      this.stats.watches++;
      this.markAlive();
      watchdog.kick();
      const openedAt = Date.now();
      const events = await this.consume(res, attempt.signal, watchdog);
      // A watch ended at once and empty was not ended by its timeout: back off rather than spin.
      if (events === 0 && Date.now() - openedAt < EMPTY_WATCH_MS) throw new WatchClosedError(this.path);
    } finally {
      watchdog.stop();
      this.stopping.signal.removeEventListener('abort', stop);
    }
  }

  /**
   * Resolves with the number of events handled when the apiserver ends the watch (its timeout);
   * rejects on anything else.
   */
  private consume(res: IncomingMessage, signal: AbortSignal, watchdog: Watchdog): Promise<number> {
    return new Promise((resolve, reject) => {
      const decoder = new WatchDecoder<T>();
      let handled = 0;
      const fail = (err: unknown): void => {
        res.destroy();
        reject(err);
      };
      signal.addEventListener('abort', () => fail(signal.reason), { once: true });
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        watchdog.kick();
        this.markAlive();
        try {
          for (const event of decoder.push(chunk)) {
            this.handle(event);
            handled++;
          }
        } catch (err) {
          fail(err);
        }
      });
      res.once('end', () => resolve(handled));
      res.on('error', fail);
      res.once('close', () => fail(new WatchClosedError(this.path)));
    });
  }

  private handle(event: WatchEvent<T>): void {
    if (event.type === 'ERROR') throw ApiError.fromStatus(event.object, 'WATCH', this.path);
    if (event.type !== 'BOOKMARK') this.sink.apply(event.type, this.withTypeMeta(event.object));
    // Advanced only after the sink took the event: a reconnect resumes exactly after the last one handled.
    this.resourceVersion = event.object.metadata.resourceVersion ?? this.resourceVersion;
    this.backoff.reset();
  }

  private markAlive(): void {
    this.lastActivityAt = Date.now();
  }

  /**
   * List items come without apiVersion and kind; handlers get the same shape from lists and watches.
   * managedFields are dropped (controller-runtime's TransformStripManagedFields): no controller reads
   * them, and they are often the largest part of a cached object.
   */
  private withTypeMeta(obj: T): T {
    return withoutManagedFields(obj.apiVersion && obj.kind ? obj : { ...this.typeMeta, ...obj });
  }
}

/** The object without metadata.managedFields, which caches never need. */
export function withoutManagedFields<T extends KubeObject>(obj: T): T {
  if (!('managedFields' in obj.metadata)) return obj;
  const { managedFields: _dropped, ...metadata } = obj.metadata as ObjectMeta & { managedFields?: unknown };
  return { ...obj, metadata };
}
