import { posix } from 'node:path';

import type { NodeFile } from '../types.js';
import type { CallContext, LxdClient } from './client.js';
import { isNotFound } from './envelope.js';

const FILE_TIMEOUT_MS = 60_000;

/**
 * Writes a file into an instance with `POST /1.0/instances/<name>/files?path=...`: raw bytes as the
 * body, owner and mode in `X-LXD-*` headers (`X-Incus-*` on Incus). Works on stopped instances too
 * (the host mounts the root filesystem), which is how a node gets its hostname and certificates before
 * its first boot. The uid/gid are the node's own; the host shifts them into the node's id range.
 */
export async function pushFile(client: LxdClient, instance: string, file: NodeFile): Promise<void> {
  const call: CallContext = { operation: 'push-file', instance };
  const prefix = await client.headerPrefix();
  const canModifyExisting = (await client.server()).apiExtensions.includes(MODIFY_PERMISSIONS_EXTENSION);
  if (file.createParents) await createParents(client, instance, file.path, prefix, call);
  // Without the extension an overwritten file keeps its old owner and mode (a key once pushed 0644
  // would stay readable), so the old file goes first.
  if (!canModifyExisting) await deleteIfPresent(client, instance, file.path, call);
  const data = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
  await client.call('POST', filesPath(instance, file.path), call, {
    headers: ownerHeaders(prefix, 'file', file.uid ?? 0, file.gid ?? 0, file.mode, canModifyExisting),
    body: { kind: 'bytes', contentType: 'application/octet-stream', data },
    timeoutMs: FILE_TIMEOUT_MS,
  });
}

/** LXD ≥ 5.x: `X-LXD-modify-perm` applies owner and mode to a file that already exists. */
const MODIFY_PERMISSIONS_EXTENSION = 'instances_files_modify_permissions';

async function deleteIfPresent(client: LxdClient, instance: string, path: string, call: CallContext): Promise<void> {
  try {
    await client.call('DELETE', filesPath(instance, path), call, { timeoutMs: FILE_TIMEOUT_MS });
  } catch (error) {
    if (!isNotFound(error)) throw error;
  }
}

/** Parents are not created by the host; pushing a directory that exists is accepted (and leaves it). */
async function createParents(
  client: LxdClient,
  instance: string,
  path: string,
  prefix: string,
  call: CallContext,
): Promise<void> {
  for (const directory of parentsOf(path)) {
    await client.call('POST', filesPath(instance, directory), call, {
      headers: ownerHeaders(prefix, 'directory', 0, 0, 0o755, false),
      timeoutMs: FILE_TIMEOUT_MS,
    });
  }
}

/** `/etc/docker/certs/ca.pem` → [`/etc`, `/etc/docker`, `/etc/docker/certs`]. */
export function parentsOf(path: string): string[] {
  const parents: string[] = [];
  for (let dir = posix.dirname(posix.normalize(path)); dir !== '/' && dir !== '.'; dir = posix.dirname(dir)) {
    parents.unshift(dir);
  }
  return parents;
}

function filesPath(instance: string, path: string): string {
  return `/1.0/instances/${encodeURIComponent(instance)}/files?path=${encodeURIComponent(path)}`;
}

function ownerHeaders(
  prefix: string,
  type: 'file' | 'directory',
  uid: number,
  gid: number,
  mode: number,
  applyToExisting: boolean,
): Record<string, string> {
  const headers: Record<string, string> = {
    [`${prefix}-type`]: type,
    [`${prefix}-uid`]: String(uid),
    [`${prefix}-gid`]: String(gid),
    // Octal with a leading zero, as `lxc file push` sends it.
    [`${prefix}-mode`]: `0${(mode & 0o7777).toString(8)}`,
    [`${prefix}-write`]: 'overwrite',
  };
  if (applyToExisting) headers[`${prefix}-modify-perm`] = 'uid,gid,mode';
  return headers;
}
