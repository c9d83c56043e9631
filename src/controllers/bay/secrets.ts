import type { Bay } from '../../api/types.generated.js';
import { isConflict, isNotFound } from '../../runtime/errors.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { controllerReference } from '../../runtime/owner-refs.js';
import { BAY, SECRET, type SecretObject } from '../kinds.js';

/** Labels on every Secret marina keeps for a bay, so that they can be listed and cleaned up together. */
export const BAY_LABEL = 'marina.dev/bay';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'marina';

export type SecretStrings = Record<string, string>;

/**
 * How the bay controller reaches Secrets: reads come from the operator's cache (Secrets labelled
 * managed-by marina), writes go to the apiserver and their result goes back into the cache at once.
 */
export interface SecretAccess {
  readonly client: KubeClient;
  cached(namespace: string, name: string): SecretObject | undefined;
  wrote(secret: SecretObject | undefined): void;
}

/** A Secret under a name marina uses for this bay, which this bay does not own. It is never touched. */
export class SecretConflictError extends Error {
  override readonly name = 'SecretConflictError';

  constructor(
    readonly namespace: string,
    readonly secretName: string,
  ) {
    super(`Secret ${namespace}/${secretName} exists but does not belong to this bay; marina leaves it untouched. Delete or rename it to let the bay use its name`);
  }
}

const decode = (data: Record<string, string> | undefined): SecretStrings =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const encode = (data: SecretStrings): Record<string, string> => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

const ownedBy = (secret: SecretObject, bay: Bay): boolean => secret.metadata.ownerReferences?.some((r) => r.uid === bay.metadata.uid) ?? false;

/** The bay's Secret from the cache, decoded; undefined when absent. Throws for a Secret the bay does not own. */
export function readOwnSecret(access: SecretAccess, bay: Bay, name: string): SecretStrings | undefined {
  const secret = access.cached(bay.metadata.namespace!, name);
  if (!secret) return undefined;
  if (!ownedBy(secret, bay)) throw new SecretConflictError(bay.metadata.namespace!, name);
  return decode(secret.data);
}

/**
 * The Secret's content, created from `make()` when it does not exist yet. Never overwrites: a CA or a
 * key that exists is the one in use, and regenerating it would cut every holder off. Two writers racing
 * (a crash and a restart) both end with whatever the first one stored. A Secret of that name the cache
 * does not hold (not labelled as marina's) is found by the create's conflict and refused.
 */
export async function ensureSecret(access: SecretAccess, bay: Bay, name: string, type: string, make: () => Promise<SecretStrings>, signal?: AbortSignal): Promise<SecretStrings> {
  const existing = readOwnSecret(access, bay, name);
  if (existing) return existing;
  const data = await make();
  try {
    access.wrote(await access.client.create<SecretObject>(SECRET, secretObject(bay, name, type, data), signal));
    return data;
  } catch (err) {
    if (!isConflict(err)) throw err;
    return decode((await readLive(access, bay, name, signal)).data);
  }
}

/** Creates or replaces the Secret's data (content derived from other Secrets, such as the bundle). */
export async function writeSecret(access: SecretAccess, bay: Bay, name: string, type: string, data: SecretStrings, signal?: AbortSignal): Promise<void> {
  const namespace = bay.metadata.namespace!;
  const existing = readOwnSecret(access, bay, name);
  if (existing && sameData(existing, data)) return;
  if (!existing) {
    try {
      access.wrote(await access.client.create<SecretObject>(SECRET, secretObject(bay, name, type, data), signal));
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
      await readLive(access, bay, name, signal);
    }
  }
  access.wrote(await access.client.patch<SecretObject>(SECRET, { namespace, name }, 'merge', { data: encode(data) }, { signal }));
}

export async function deleteSecret(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await client.delete(SECRET, { namespace, name }, signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}

/** After a create conflicted: the stored Secret, if this bay owns it (the cache had not caught up). */
async function readLive(access: SecretAccess, bay: Bay, name: string, signal?: AbortSignal): Promise<SecretObject> {
  const secret = await access.client.get<SecretObject>(SECRET, { namespace: bay.metadata.namespace!, name }, signal);
  if (!ownedBy(secret, bay)) throw new SecretConflictError(bay.metadata.namespace!, name);
  access.wrote(secret);
  return secret;
}

function sameData(a: SecretStrings, b: SecretStrings): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}

function secretObject(bay: Bay, name: string, type: string, data: SecretStrings): SecretObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace: bay.metadata.namespace!,
      labels: { [BAY_LABEL]: bay.metadata.name!, [MANAGED_BY_LABEL]: MANAGED_BY },
      ownerReferences: [controllerReference(bay, BAY)],
    },
    type,
    data: encode(data),
  };
}
