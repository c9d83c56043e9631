import type { Logger } from 'pino';
import { isNotFound } from './errors.js';
import type { KubeClient } from './kube-client.js';
import { formatMicroTime } from './micro-time.js';
import type { KubeObject, ResourceType } from './resource.js';

export const EVENT_TYPE: ResourceType = { group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', namespaced: true };

export interface ObjectReference {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
}

export interface EventInput {
  readonly type: 'Normal' | 'Warning';
  /** CamelCase, e.g. 'ScaledUp'. */
  readonly reason: string;
  /** What the controller did or failed to do, e.g. 'Reconcile', 'Provision'. */
  readonly action: string;
  /** Human-readable; the apiserver keeps at most 1 kB. */
  readonly note: string;
  readonly related?: KubeObject;
}

export interface EventRecorderOptions {
  readonly client: KubeClient;
  readonly reportingController: string;
  readonly reportingInstance: string;
  readonly log: Logger;
  /** The same event again within this window bumps the series count of the first one. */
  readonly dedupWindowMs?: number;
  /**
   * A series' count is written at most this often: a bay retried every few seconds must not PATCH an
   * Event each time (client-go's spam filter). Repeats in between are counted and written with the next.
   */
  readonly seriesWriteIntervalMs?: number;
}

interface Series {
  readonly namespace: string;
  readonly name: string;
  readonly firstAt: number;
  /** Occurrences so far; `written` of them are in the stored Event. */
  count: number;
  written: number;
  writtenAt: number;
}

const NOTE_LIMIT = 1024;
const DEFAULT_WINDOW_MS = 10 * 60_000;
const DEFAULT_SERIES_WRITE_INTERVAL_MS = 60_000;
const MAX_TRACKED_SERIES = 4096;

/**
 * Emits `events.k8s.io/v1` Events. A controller that fails the same way on every retry would flood
 * etcd with identical Events; like client-go's event broadcaster, a repeat of the same regarding +
 * type + reason + action + note within the window only raises `series.count` of the first Event.
 * Recording never throws: an Event is worth a log line, never a failed reconcile.
 */
export class EventRecorder {
  private readonly series = new Map<string, Series>();
  // Serialises records of one series, so that two concurrent repeats cannot create two Events.
  private readonly pending = new Map<string, Promise<void>>();
  /** Told apart Events created in the same millisecond (several nodes' at once), as nanoseconds would. */
  private sequence = 0;

  constructor(private readonly opts: EventRecorderOptions) {}

  record(regarding: KubeObject, input: EventInput): Promise<void> {
    const key = seriesKey(regarding, input);
    const previous = this.pending.get(key) ?? Promise.resolve();
    const next = previous.then(() => this.emit(key, regarding, input));
    this.pending.set(key, next);
    void next.finally(() => {
      if (this.pending.get(key) === next) this.pending.delete(key);
    });
    return next;
  }

  private async emit(key: string, regarding: KubeObject, input: EventInput): Promise<void> {
    const now = Date.now();
    this.forgetExpired(now);
    const known = this.series.get(key);
    // Re-inserted below on success: the map stays in least-recently-used order for eviction.
    this.series.delete(key);
    try {
      if (known && (await this.bumped(known, now))) this.series.set(key, known);
      else this.series.set(key, await this.create(regarding, input, now));
    } catch (err) {
      this.opts.log.warn({ err, reason: input.reason }, 'could not record event');
    }
  }

  private async create(regarding: KubeObject, input: EventInput, now: number): Promise<Series> {
    const namespace = regarding.metadata.namespace || 'default';
    const nanos = BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000);
    const name = `${regarding.metadata.name ?? 'event'}.${nanos.toString(16)}`;
    await this.opts.client.create(EVENT_TYPE, {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name, namespace },
      eventTime: formatMicroTime(now),
      reportingController: this.opts.reportingController,
      reportingInstance: this.opts.reportingInstance,
      type: input.type,
      reason: input.reason,
      action: input.action,
      note: input.note.length > NOTE_LIMIT ? `${input.note.slice(0, NOTE_LIMIT - 3)}...` : input.note,
      regarding: referenceTo(regarding),
      ...(input.related ? { related: referenceTo(input.related) } : {}),
    });
    return { namespace, name, firstAt: now, count: 1, written: 1, writtenAt: 0 };
  }

  /** False when the first Event is gone (Events expire after an hour): the caller starts a new series. */
  private async bumped(series: Series, now: number): Promise<boolean> {
    const count = series.count + 1;
    if (now - series.writtenAt < (this.opts.seriesWriteIntervalMs ?? DEFAULT_SERIES_WRITE_INTERVAL_MS)) {
      series.count = count;
      return true;
    }
    const patch = { series: { count, lastObservedTime: formatMicroTime(now) } };
    try {
      await this.opts.client.patch(EVENT_TYPE, series, 'merge', patch);
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
    series.count = count;
    series.written = count;
    series.writtenAt = now;
    return true;
  }

  private forgetExpired(now: number): void {
    const window = this.opts.dedupWindowMs ?? DEFAULT_WINDOW_MS;
    for (const [key, s] of this.series) {
      if (now - s.firstAt > window || this.series.size > MAX_TRACKED_SERIES) this.series.delete(key);
    }
  }
}

export function referenceTo(obj: KubeObject): ObjectReference {
  const { name, namespace, uid, resourceVersion } = obj.metadata;
  return { apiVersion: obj.apiVersion, kind: obj.kind, name, namespace, uid, resourceVersion };
}

function seriesKey(regarding: KubeObject, input: EventInput): string {
  const { namespace, name, uid } = regarding.metadata;
  return JSON.stringify([regarding.kind, namespace, name, uid, input.type, input.reason, input.action, input.note]);
}
