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

/** Deletion began, or finalizers changed (someone else's finalizer went, so the object may be gone soon). */
export const deletionOrFinalizersChanged: UpdatePredicate = (a, b) =>
  a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp || !jsonEqual(a.metadata.finalizers ?? [], b.metadata.finalizers ?? []);

export function anyOf<T extends KubeObject>(...predicates: readonly UpdatePredicate<T>[]): UpdatePredicate<T> {
  return (a, b) => predicates.some((p) => p(a, b));
}

/** Everything but status: what a controller that writes status watches its primary objects with. */
export const specOrMetadataChanged: UpdatePredicate = anyOf(generationChanged, annotationsChanged, labelsChanged, deletionOrFinalizersChanged);
