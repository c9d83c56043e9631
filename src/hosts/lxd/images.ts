import type { ImageRef } from '../types.js';
import type { LxdImageAlias } from './api-types.js';
import type { CallContext, LxdClient } from './client.js';
import { isConflict, isNotFound } from './envelope.js';

/** Aliases may contain '/', e.g. `marina-node/bookworm`; the path segment is percent-encoded. */
function aliasPath(alias: string): string {
  return `/1.0/images/aliases/${encodeURIComponent(alias)}`;
}

export async function findImageAlias(client: LxdClient, alias: string): Promise<ImageRef | undefined> {
  try {
    const found = await client.get<LxdImageAlias>(aliasPath(alias), { operation: 'find-image' });
    return { alias, fingerprint: found.target };
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function imageExists(client: LxdClient, fingerprint: string): Promise<boolean> {
  try {
    await client.get(`/1.0/images/${encodeURIComponent(fingerprint)}`, { operation: 'find-image' });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

/** Creates the alias, or moves an existing one to the new image. */
export async function pointAlias(client: LxdClient, alias: string, fingerprint: string, description: string): Promise<void> {
  const call: CallContext = { operation: 'alias-image' };
  try {
    await client.call('POST', '/1.0/images/aliases', call, { json: { name: alias, target: fingerprint, description } });
  } catch (error) {
    if (!isConflict(error)) throw error;
    await client.call('PUT', aliasPath(alias), call, { json: { target: fingerprint, description } });
  }
}
