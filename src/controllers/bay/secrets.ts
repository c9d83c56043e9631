import type { Bay } from '../../api/types.generated.js';
import { isConflict, isNotFound } from '../../runtime/errors.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { controllerReference } from '../../runtime/owner-refs.js';
import { BAY, SECRET, type SecretObject } from '../kinds.js';

/** Labels on every Secret marina keeps for a bay, so that they can be listed and cleaned up together. */
export const BAY_LABEL = 'marina.dev/bay';
/**
 * On the bay's internal Secrets (CA, marina's client, node keys) in the operator's namespace: an owner
 * reference cannot cross namespaces, so this label says which bay owns them.
 */
export const BAY_UID_LABEL = 'marina.dev/bay-uid';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'marina';

export type SecretStrings = Record<string, string>;

/**
 * How the bay controller reaches Secrets: reads come from the operator's cache (Secrets labelled
 * managed-by marina), writes go to the apiserver and their result goes back into the cache at once.
 */
export interface SecretAccess {
  readonly client: KubeClient;
  /** Where the bays' internal Secrets live, out of their tenants' reach. */
  readonly operatorNamespace: string;
  cached(namespace: string, name: string): SecretObject | undefined;
  wrote(secret: SecretObject | undefined): void;
}

/** Where one of a bay's Secrets lives. */
export interface SecretRef {
  readonly namespace: string;
  readonly name: string;
}

/** A Secret under a name marina uses for this bay, which this bay does not own. It is never touched. */
export class SecretConflictError extends Error {
  override readonly name = 'SecretConflictError';

  constructor(
    readonly namespace: string,
    readonly secretName: string,
  ) {
    super(
      `Secret ${namespace}/${secretName} exists but does not belong to this bay; marina leaves it untouched. Delete or rename it to let the bay use its name`,
    );
  }
}

const decode = (data: Record<string, string> | undefined): SecretStrings =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const encode = (data: SecretStrings): Record<string, string> =>
  Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

const ownedBy = (secret: SecretObject, bay: Bay): boolean =>
  (secret.metadata.ownerReferences?.some((r) => r.uid === bay.metadata.uid) ?? false) ||
  (secret.metadata.namespace !== bay.metadata.namespace &&
    secret.metadata.labels?.[BAY_UID_LABEL] === bay.metadata.uid);

/** The bay's Secret from the cache, decoded; undefined when absent. Throws for a Secret the bay does not own. */
export function readOwnSecret(access: SecretAccess, bay: Bay, ref: SecretRef): SecretStrings | undefined {
  const secret = access.cached(ref.namespace, ref.name);
  if (!secret) return undefined;
  if (!ownedBy(secret, bay)) throw new SecretConflictError(ref.namespace, ref.name);
  return decode(secret.data);
}

/** Whether the cache holds the Secret and this bay owns it (a foreign one is never ours to move). */
export function ownsCachedSecret(access: SecretAccess, bay: Bay, ref: SecretRef): boolean {
  const secret = access.cached(ref.namespace, ref.name);
  return secret !== undefined && ownedBy(secret, bay);
}

/**
 * The Secret's content, created from `make()` when it does not exist yet. Never overwrites: a CA or a
 * key that exists is the one in use, and regenerating it would cut every holder off. Two writers racing
 * (a crash and a restart) both end with whatever the first one stored. A Secret of that name the cache
 * does not hold (not labelled as marina's) is found by the create's conflict and refused.
 */
export async function ensureSecret(
  access: SecretAccess,
  bay: Bay,
  ref: SecretRef,
  type: string,
  make: () => Promise<SecretStrings>,
  signal?: AbortSignal,
): Promise<SecretStrings> {
  const existing = readOwnSecret(access, bay, ref);
  if (existing) return existing;
  const data = await make();
  try {
    access.wrote(await access.client.create<SecretObject>(SECRET, secretObject(bay, ref, type, data), signal));
    return data;
  } catch (err) {
    if (!isConflict(err)) throw err;
    return decode((await readLive(access, bay, ref, signal)).data);
  }
}

/** Creates or replaces the Secret's data (content derived from other Secrets, such as the bundle). */
export async function writeSecret(
  access: SecretAccess,
  bay: Bay,
  ref: SecretRef,
  type: string,
  data: SecretStrings,
  signal?: AbortSignal,
): Promise<void> {
  const existing = readOwnSecret(access, bay, ref);
  if (existing && sameData(existing, data)) return;
  if (!existing) {
    try {
      access.wrote(await access.client.create<SecretObject>(SECRET, secretObject(bay, ref, type, data), signal));
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      await readLive(access, bay, ref, signal);
    }
  }
  // A whole replacement, not a merge: keys dropped from `data` (a CA rotation's old CA) must go.
  const patch = {
    data: Object.fromEntries([...Object.keys(existing ?? {}).map((k) => [k, null]), ...Object.entries(encode(data))]),
  };
  access.wrote(await access.client.patch<SecretObject>(SECRET, ref, 'merge', patch, { signal }));
}

/**
 * A Secret an older marina kept in the tenant's namespace (the CA key among them) moved to where it
 * lives now: copied first, then deleted, so a crash in between leaves two copies, never none. A
 * Secret of that name the bay does not own is not marina's to move and is left alone.
 */
export async function moveLegacySecret(
  access: SecretAccess,
  bay: Bay,
  legacy: SecretRef,
  target: SecretRef,
  type: string,
  signal?: AbortSignal,
): Promise<boolean> {
  if (!ownsCachedSecret(access, bay, legacy)) return false;
  const data = readOwnSecret(access, bay, legacy)!;
  await ensureSecret(access, bay, target, type, () => Promise.resolve(data), signal);
  await deleteSecret(access.client, legacy.namespace, legacy.name, signal);
  return true;
}

export async function deleteSecret(
  client: KubeClient,
  namespace: string,
  name: string,
  signal?: AbortSignal,
): Promise<void> {
  try {
    await client.delete(SECRET, { namespace, name }, signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** After a create conflicted: the stored Secret, if this bay owns it (the cache had not caught up). */
async function readLive(access: SecretAccess, bay: Bay, ref: SecretRef, signal?: AbortSignal): Promise<SecretObject> {
  const secret = await access.client.get<SecretObject>(SECRET, ref, signal);
  if (!ownedBy(secret, bay)) throw new SecretConflictError(ref.namespace, ref.name);
  access.wrote(secret);
  return secret;
}

function sameData(a: SecretStrings, b: SecretStrings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

/**
 * In the bay's namespace a Secret is owned through an owner reference (the garbage collector removes
 * it with the bay); elsewhere through the bay-uid label, and deleted by marina with the bay.
 */
function secretObject(bay: Bay, ref: SecretRef, type: string, data: SecretStrings): SecretObject {
  const sameNamespace = ref.namespace === bay.metadata.namespace;
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: ref.name,
      namespace: ref.namespace,
      labels: { [BAY_LABEL]: bay.metadata.name!, [BAY_UID_LABEL]: bay.metadata.uid!, [MANAGED_BY_LABEL]: MANAGED_BY },
      ...(sameNamespace ? { ownerReferences: [controllerReference(bay, BAY)] } : {}),
    },
    type,
    data: encode(data),
  };
}
