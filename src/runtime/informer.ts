import type { Logger } from 'pino';
import type { KubeClient } from './kube-client.js';
import { Reflector, withoutManagedFields, type ReflectorSink, type ReflectorStats, type ReflectorTuning } from './reflector.js';
import type { KubeObject, ResourceType } from './resource.js';
import { Store, type ApplyResult } from './store.js';

export interface EventHandler<T extends KubeObject> {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  onDelete?(obj: T): void;
}

export interface InformerScope {
  /** Only this namespace; all namespaces when absent. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface InformerOptions extends InformerScope {
  readonly client: KubeClient;
  readonly resource: ResourceType;
  readonly log: Logger;
  readonly tuning?: ReflectorTuning;
}

/**
 * A reflector feeding a store, shared by every controller interested in one collection. Handlers are
 * called synchronously in watch order; they should only enqueue keys.
 */
export class Informer<T extends KubeObject> implements ReflectorSink<T> {
  readonly store = new Store<T>();
  private readonly handlers: EventHandler<T>[] = [];
  private readonly reflector: Reflector<T>;
  private readonly log: Logger;
  private synced = false;
  private readonly syncWaiters = new Set<() => void>();

  constructor(private readonly opts: InformerOptions) {
    this.log = opts.log.child({ informer: opts.resource.plural, ...(opts.namespace ? { namespace: opts.namespace } : {}) });
    this.reflector = new Reflector<T>({ ...opts, ...opts.tuning, log: this.log }, this);
  }

  get resource(): ResourceType {
    return this.opts.resource;
  }

  get stats(): Readonly<ReflectorStats> {
    return this.reflector.stats;
  }

  /** A handler registered after the first sync is told about every cached object as an add. */
  addEventHandler(handler: EventHandler<T>): void {
    this.handlers.push(handler);
    for (const obj of this.store.list()) this.dispatch(() => handler.onAdd?.(obj));
  }

  start(): void {
    this.reflector.start();
  }

  async stop(): Promise<void> {
    await this.reflector.stop();
    for (const wake of this.syncWaiters) wake();
  }

  /** True once the first complete list is in the store. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once synced, or false if `signal` aborts or the informer stops first. */
  waitForSync(signal?: AbortSignal): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const wake = (): void => {
        this.syncWaiters.delete(wake);
        signal?.removeEventListener('abort', wake);
        resolve(this.synced);
      };
      this.syncWaiters.add(wake);
      signal?.addEventListener('abort', wake, { once: true });
    });
  }

  isStalled(): boolean {
    return this.reflector.isStalled();
  }

  get silentForMs(): number {
    return this.reflector.silentForMs;
  }

  get(key: string): T | undefined {
    return this.store.get(key);
  }

  /**
   * Read-your-writes: the object a write of this controller returned goes into the cache at once,
   * without waking handlers — the controller knows what it wrote, and its next reconcile must not
   * act on the state from before the write (client-go's mutation cache does the same). The watch
   * event for that version arrives later as a no-op.
   */
  observeWrite(obj: T | undefined): void {
    if (obj?.metadata.name) this.store.absorb(withoutManagedFields(obj));
  }

  list(): T[] {
    return this.store.list();
  }

  replace(items: T[]): void {
    const delta = this.store.replace(items);
    if (this.synced && delta.deleted.length > 0) {
      this.log.info({ deleted: delta.deleted.length }, 'relist found objects deleted while the watch was away');
    }
    for (const obj of delta.deleted) this.notify({ kind: 'deleted', obj });
    for (const obj of delta.added) this.notify({ kind: 'added', obj });
    for (const { oldObj, newObj } of delta.updated) this.notify({ kind: 'updated', oldObj, newObj });
    this.markSynced();
  }

  apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    this.notify(type === 'DELETED' ? this.store.remove(obj) : this.store.upsert(obj));
  }

  private markSynced(): void {
    if (this.synced) return;
    this.synced = true;
    for (const wake of this.syncWaiters) wake();
  }

  private notify(change: ApplyResult<T>): void {
    for (const handler of this.handlers) {
      switch (change.kind) {
        case 'added':
          this.dispatch(() => handler.onAdd?.(change.obj));
          break;
        case 'updated':
          this.dispatch(() => handler.onUpdate?.(change.oldObj, change.newObj));
          break;
        case 'deleted':
          this.dispatch(() => handler.onDelete?.(change.obj));
          break;
        case 'unchanged':
          break;
      }
    }
  }

  // A throwing handler must not break the stream for the other handlers or the cache.
  private dispatch(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.log.error({ err }, 'event handler threw');
    }
  }
}
