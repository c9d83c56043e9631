import type { KubeStatus } from './errors.js';
import type { KubeObject } from './resource.js';

export type WatchEvent<T extends KubeObject> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; readonly object: T }
  | { readonly type: 'ERROR'; readonly object: KubeStatus };

const EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export class WatchDecodeError extends Error {
  override readonly name = 'WatchDecodeError';

  constructor(readonly line: string) {
    super(`undecodable watch event: ${line.slice(0, 200)}`);
  }
}

/**
 * Splits the apiserver's newline-delimited JSON watch stream into events. Chunks may end anywhere,
 * even inside a multi-byte character if the caller did not set an encoding on the stream, so the
 * caller passes strings decoded with `setEncoding('utf8')` and the incomplete last line is kept.
 */
export class WatchDecoder<T extends KubeObject> {
  private pending = '';

  push(chunk: string): WatchEvent<T>[] {
    const lines = (this.pending + chunk).split('\n');
    this.pending = lines.pop() ?? '';
    return lines.filter((line) => line.trim() !== '').map((line) => decodeLine<T>(line));
  }
}

function decodeLine<T extends KubeObject>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new WatchDecodeError(line);
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (typeof event.type !== 'string' || !EVENT_TYPES.has(event.type) || typeof event.object !== 'object' || event.object === null) {
    throw new WatchDecodeError(line);
  }
  return event as WatchEvent<T>;
}
