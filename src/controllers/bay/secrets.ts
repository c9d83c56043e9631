import { isConflict, isNotFound } from '../../runtime/errors.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { controllerReference } from '../../runtime/owner-refs.js';
import type { Bay } from '../../api/types.generated.js';
import { BAY, SECRET, type SecretObject } from '../kinds.js';

/** Labels on every Secret marina keeps for a bay, so that they can be listed and cleaned up together. */
export const BAY_LABEL = 'marina.dev/bay';

export type SecretStrings = Record<string, string>;

const decode = (data: Record<string, string> | undefined): SecretStrings =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
const encode = (data: SecretStrings): Record<string, string> => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

export async function readSecret(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<SecretStrings | undefined> {
  try {
    return decode((await client.get<SecretObject>(SECRET, { namespace, name }, signal)).data);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/**
 * The Secret's content, created from `make()` when it does not exist yet. Never overwrites: a CA or a
 * key that exists is the one in use, and regenerating it would cut every holder off. Two writers racing
 * (a crash and a restart) both end with whatever the first one stored.
 */
export async function ensureSecret(client: KubeClient, bay: Bay, name: string, type: string, make: () => Promise<SecretStrings>, signal?: AbortSignal): Promise<SecretStrings> {
  const namespace = bay.metadata.namespace!;
  const existing = await readSecret(client, namespace, name, signal);
  if (existing) return existing;
  const data = await make();
  try {
    await client.create<SecretObject>(SECRET, secretObject(bay, name, type, data), signal);
    return data;
  } catch (err) {
    if (!isConflict(err)) throw err;
    const stored = await readSecret(client, namespace, name, signal);
    if (!stored) throw err;
    return stored;
  }
}

/** Creates or replaces the Secret's data (for content derived from other Secrets, such as the bundle). */
export async function writeSecret(client: KubeClient, bay: Bay, name: string, type: string, data: SecretStrings, signal?: AbortSignal): Promise<void> {
  const namespace = bay.metadata.namespace!;
  const existing = await readSecret(client, namespace, name, signal);
  if (existing && sameData(existing, data)) return;
  if (!existing) {
    try {
      await client.create<SecretObject>(SECRET, secretObject(bay, name, type, data), signal);
      return;
    } catch (err) {
      if (!isConflict(err)) throw err;
    }
  }
  await client.patch(SECRET, { namespace, name }, 'merge', { data: encode(data) }, { signal });
}

export async function deleteSecret(client: KubeClient, namespace: string, name: string, signal?: AbortSignal): Promise<void> {
  try {
    await client.delete(SECRET, { namespace, name }, signal);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
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
      labels: { [BAY_LABEL]: bay.metadata.name!, 'app.kubernetes.io/managed-by': 'marina' },
      ownerReferences: [controllerReference(bay, BAY)],
    },
    type,
    data: encode(data),
  };
}
