import { isNewerVersion, objectKey, type KubeObject } from './resource.js';

/** What a relist changed, relative to the store's previous content. */
export interface ReplaceDelta<T extends KubeObject> {
  readonly added: T[];
  readonly updated: Array<{ readonly oldObj: T; readonly newObj: T }>;
  /** Objects that vanished while the watch was away: their deletes are synthesised from the last known state. */
  readonly deleted: T[];
}

export type ApplyResult<T extends KubeObject> =
  | { readonly kind: 'added'; readonly obj: T }
  | { readonly kind: 'updated'; readonly oldObj: T; readonly newObj: T }
  | { readonly kind: 'deleted'; readonly obj: T }
  | { readonly kind: 'unchanged' };

/** The cache of one kind: the latest known state of each object, keyed `namespace/name` (or `name`). */
export class Store<T extends KubeObject> {
  private readonly items = new Map<string, T>();

  get(key: string): T | undefined {
    return this.items.get(key);
  }

  list(): T[] {
    return [...this.items.values()];
  }

  keys(): string[] {
    return [...this.items.keys()];
  }

  get size(): number {
    return this.items.size;
  }

  /**
   * Records an object seen by the watch. An object already stored at the same resourceVersion is
   * `unchanged`: that happens when a list and a watch overlap, and must not reach handlers twice.
   */
  upsert(obj: T): ApplyResult<T> {
    const key = objectKey(obj);
    const oldObj = this.items.get(key);
    this.items.set(key, obj);
    if (!oldObj) return { kind: 'added', obj };
    if (oldObj.metadata.resourceVersion === obj.metadata.resourceVersion) return { kind: 'unchanged' };
    return { kind: 'updated', oldObj, newObj: obj };
  }

  /**
   * Records an object the controller just wrote, as the apiserver returned it, unless the cache holds
   * a later state already. The watch delivers the same version later, which then counts as unchanged.
   * Returns whether the store took it.
   */
  absorb(obj: T): boolean {
    const key = objectKey(obj);
    const known = this.items.get(key);
    if (known && (known.metadata.uid !== obj.metadata.uid || !isNewerVersion(obj.metadata.resourceVersion, known.metadata.resourceVersion))) {
      return false;
    }
    this.items.set(key, obj);
    return true;
  }

  /** Removes an object; the result carries the last state the watch delivered. */
  remove(obj: T): ApplyResult<T> {
    const key = objectKey(obj);
    if (!this.items.has(key)) return { kind: 'unchanged' };
    this.items.delete(key);
    return { kind: 'deleted', obj };
  }

  /** Makes the store hold exactly `items` (a fresh list) and says what changed. */
  replace(items: readonly T[]): ReplaceDelta<T> {
    const delta = diffSnapshot(this.items, items);
    this.items.clear();
    for (const obj of items) this.items.set(objectKey(obj), obj);
    return delta;
  }
}

/** Compares a cached snapshot to a fresh list by key and resourceVersion. */
export function diffSnapshot<T extends KubeObject>(cached: ReadonlyMap<string, T>, listed: readonly T[]): ReplaceDelta<T> {
  const added: T[] = [];
  const deleted: T[] = [];
  const updated: Array<{ oldObj: T; newObj: T }> = [];
  const seen = new Set<string>();
  for (const newObj of listed) {
    const key = objectKey(newObj);
    seen.add(key);
    const oldObj = cached.get(key);
    if (!oldObj) {
      added.push(newObj);
    } else if (oldObj.metadata.uid !== newObj.metadata.uid) {
      // Deleted and re-created under the same name while the watch was away: two different objects.
      deleted.push(oldObj);
      added.push(newObj);
    } else if (oldObj.metadata.resourceVersion !== newObj.metadata.resourceVersion) {
      updated.push({ oldObj, newObj });
    }
  }
  for (const [key, obj] of cached) {
    if (!seen.has(key)) deleted.push(obj);
  }
  return { added, updated, deleted };
}
