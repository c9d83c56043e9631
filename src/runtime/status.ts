import { mergePatch } from './json.js';
import type { KubeClient } from './kube-client.js';
import { nameOf, type KubeObject, type ResourceType } from './resource.js';

export interface WithStatus extends KubeObject {
  status?: unknown;
}

/**
 * Writes `status` through the status subresource as a JSON merge patch holding only what differs
 * from `obj.status`, and nothing at all when nothing differs. Skipping no-op writes is what keeps a
 * controller that watches its own objects from reconciling forever: every write is a watch event.
 *
 * Returns the stored object, or undefined when no write was needed.
 */
export async function patchStatus<T extends WithStatus>(
  client: KubeClient,
  type: ResourceType,
  obj: T,
  status: NonNullable<T['status']>,
  signal?: AbortSignal,
): Promise<T | undefined> {
  const change = mergePatch(obj.status, status);
  if (change === undefined) return undefined;
  return client.patch<T>(type, nameOf(obj), 'merge', { status: change }, { subresource: 'status', signal });
}
