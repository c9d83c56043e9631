/**
 * What the runtime needs to know about a kind to list, watch and write it, and the minimal object
 * shape it relies on. Objects are plain JSON as the apiserver sends them (timestamps stay strings).
 */

export interface ResourceType {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** The lower-case plural used in URLs, e.g. 'configmaps'. */
  readonly plural: string;
  readonly namespaced: boolean;
}

export interface OwnerReference {
  readonly apiVersion: string;
  readonly kind: string;
  readonly name: string;
  readonly uid: string;
  readonly controller?: boolean;
  readonly blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface ListMeta {
  readonly resourceVersion: string;
  readonly continue?: string;
}

export interface KubeList<T extends KubeObject> {
  readonly metadata: ListMeta;
  readonly items: T[];
}

export function apiVersionOf(type: ResourceType): string {
  return type.group ? `${type.group}/${type.version}` : type.version;
}

export function groupOfApiVersion(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped objects. */
export function objectKey(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  if (!name) throw new Error('object has no metadata.name');
  return namespace ? `${namespace}/${name}` : name;
}

export interface ObjectName {
  readonly namespace?: string;
  readonly name: string;
}

export function parseKey(key: string): ObjectName {
  const slash = key.indexOf('/');
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The URL path of a collection; without a namespace a namespaced kind is listed across all namespaces. */
export function collectionPath(type: ResourceType, namespace?: string): string {
  const prefix = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
  const scope = type.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${scope}/${type.plural}`;
}

export function objectPath(type: ResourceType, ref: ObjectName, subresource?: string): string {
  if (type.namespaced && !ref.namespace) throw new Error(`${type.kind} ${ref.name}: a namespaced kind needs a namespace`);
  const base = `${collectionPath(type, ref.namespace)}/${encodeURIComponent(ref.name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

/** The namespace/name of an object, checked, for building its URL. */
export function nameOf(obj: KubeObject): ObjectName {
  const { namespace, name } = obj.metadata;
  if (!name) throw new Error('object has no metadata.name');
  return namespace ? { namespace, name } : { name };
}

/**
 * Whether `candidate` is a later state of the object than `known`. resourceVersions are opaque by
 * contract, but etcd-backed apiservers issue increasing integers; anything else counts as newer when
 * it differs, which is what a watch would deliver next.
 */
export function isNewerVersion(candidate: string | undefined, known: string | undefined): boolean {
  if (candidate === undefined) return false;
  if (known === undefined) return true;
  if (/^\d+$/.test(candidate) && /^\d+$/.test(known)) return BigInt(candidate) > BigInt(known);
  return candidate !== known;
}
