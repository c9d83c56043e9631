import { jsonEqual } from './json.js';
import type { KubeObject } from './resource.js';

/**
 * Decides whether an update of a watched object is worth a reconcile (controller-runtime's
 * predicates). Adds and deletes always are; filters apply to updates only, so that a controller
 * wakes for what can change its decision and never for its own status write.
 */
export type UpdatePredicate<T extends KubeObject = KubeObject> = (oldObj: T, newObj: T) => boolean;

/** The spec changed: the apiserver raises metadata.generation for spec changes only. */
export const generationChanged: UpdatePredicate = (a, b) => a.metadata.generation !== b.metadata.generation;

export const annotationsChanged: UpdatePredicate = (a, b) => !jsonEqual(a.metadata.annotations ?? {}, b.metadata.annotations ?? {});

export const labelsChanged: UpdatePredicate = (a, b) => !jsonEqual(a.metadata.labels ?? {}, b.metadata.labels ?? {});

/**
 * Deletion began, or a finalizer went (someone else's: the object may be gone soon). A finalizer added
 * changes no decision, and waking for it would run a controller twice for its own first write: its
 * watch event may arrive before the write's answer reaches the cache.
 */
export const deletionOrFinalizerRemoved: UpdatePredicate = (a, b) => {
  const after = new Set(b.metadata.finalizers ?? []);
  return (
    a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp ||
    (a.metadata.finalizers ?? []).some((f) => !after.has(f))
  );
};

export function anyOf<T extends KubeObject>(...predicates: readonly UpdatePredicate<T>[]): UpdatePredicate<T> {
  return (a, b) => predicates.some((p) => p(a, b));
}

/** Everything but status: what a controller that writes status watches its primary objects with. */
export const specOrMetadataChanged: UpdatePredicate = anyOf(generationChanged, annotationsChanged, labelsChanged, deletionOrFinalizerRemoved);
