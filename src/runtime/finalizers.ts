import type { KubeClient } from './kube-client.js';
import { nameOf, type KubeObject, type ResourceType } from './resource.js';

export type JsonPatchOp =
  | { readonly op: 'test'; readonly path: string; readonly value: unknown }
  | { readonly op: 'add'; readonly path: string; readonly value: unknown }
  | { readonly op: 'remove'; readonly path: string };

export function hasFinalizer(obj: KubeObject, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

/**
 * The JSON patch that appends `finalizer`, guarded by a `test` of what it was computed from: if anyone
 * changed the finalizers meanwhile, the apiserver rejects the patch instead of losing their change.
 */
export function addFinalizerPatch(obj: KubeObject, finalizer: string): JsonPatchOp[] {
  const current = obj.metadata.finalizers;
  if (current) {
    return [
      { op: 'test', path: '/metadata/finalizers', value: current },
      { op: 'add', path: '/metadata/finalizers/-', value: finalizer },
    ];
  }
  // A missing list cannot be tested for, so the guard is the whole object's resourceVersion.
  return [
    { op: 'test', path: '/metadata/resourceVersion', value: obj.metadata.resourceVersion },
    { op: 'add', path: '/metadata/finalizers', value: [finalizer] },
  ];
}

/** The JSON patch that removes `finalizer` by index, guarded by a `test` that the index still holds it. */
export function removeFinalizerPatch(obj: KubeObject, finalizer: string): JsonPatchOp[] {
  const index = obj.metadata.finalizers?.indexOf(finalizer) ?? -1;
  if (index < 0) throw new Error(`${obj.metadata.name ?? '?'} has no finalizer ${finalizer}`);
  const path = `/metadata/finalizers/${index}`;
  return [
    { op: 'test', path, value: finalizer },
    { op: 'remove', path },
  ];
}

/** Adds the finalizer unless present; call it before any side effect the finalizer must clean up. */
export async function addFinalizer<T extends KubeObject>(client: KubeClient, type: ResourceType, obj: T, finalizer: string): Promise<T> {
  if (hasFinalizer(obj, finalizer)) return obj;
  return client.patch<T>(type, nameOf(obj), 'json', addFinalizerPatch(obj, finalizer));
}

/** Removes the finalizer if present, letting a deletion complete. */
export async function removeFinalizer<T extends KubeObject>(client: KubeClient, type: ResourceType, obj: T, finalizer: string): Promise<T> {
  if (!hasFinalizer(obj, finalizer)) return obj;
  return client.patch<T>(type, nameOf(obj), 'json', removeFinalizerPatch(obj, finalizer));
}
