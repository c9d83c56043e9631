import {
  apiVersionOf,
  groupOfApiVersion,
  type KubeObject,
  type OwnerReference,
  type ResourceType,
} from './resource.js';

/** The reference that makes `owner` the managing controller of another object (garbage collection included). */
export function controllerReference(owner: KubeObject, ownerType: ResourceType): OwnerReference {
  const { name, uid } = owner.metadata;
  if (!name || !uid) throw new Error(`${ownerType.kind} ${name ?? '?'} has no uid yet: owner references need a stored object`);
  return { apiVersion: apiVersionOf(ownerType), kind: ownerType.kind, name, uid, controller: true, blockOwnerDeletion: true };
}

/**
 * `obj` with `ref` among its owner references, replacing an earlier reference to the same owner.
 * Refuses a second controller: an object has at most one, as the apiserver enforces.
 */
export function withOwnerReference<T extends KubeObject>(obj: T, ref: OwnerReference): T {
  const others = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== ref.uid);
  const otherController = others.find((r) => r.controller);
  if (ref.controller && otherController) {
    throw new Error(`${obj.metadata.name ?? '?'} is already controlled by ${otherController.kind} ${otherController.name}`);
  }
  return { ...obj, metadata: { ...obj.metadata, ownerReferences: [...others, ref] } };
}

export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller);
}

/**
 * The cache key of the object's controller when that controller is of `ownerType`; the owner lives in
 * the object's namespace (owner references never cross namespaces) unless it is cluster-scoped.
 */
export function controllerKeyOf(obj: KubeObject, ownerType: ResourceType): string | undefined {
  const ref = controllerOf(obj);
  if (!ref || ref.kind !== ownerType.kind || groupOfApiVersion(ref.apiVersion) !== ownerType.group) return undefined;
  return ownerType.namespaced && obj.metadata.namespace ? `${obj.metadata.namespace}/${ref.name}` : ref.name;
}
