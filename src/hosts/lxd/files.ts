import { posix } from 'node:path';

import type { NodeFile } from '../types.js';
import type { CallContext, LxdClient } from './client.js';
import { isNotFound } from './envelope.js';

const FILE_TIMEOUT_MS = 60_000;

/**
 * Writes files into an instance, in order, each with `POST /1.0/instances/<name>/files?path=...`: raw
 * bytes as the body, owner and mode in `X-LXD-*` headers (`X-Incus-*` on Incus). Works on stopped
 * instances too (the host mounts the root filesystem), which is how a node gets its hostname and
 * certificates before its first boot. The uid/gid are the node's own; the host shifts them into the
 * node's id range. The parent directories any file asks for are made once, before the first file:
 * each is a call to the host, and a node's dockerd files share most of theirs.
 */
export async function pushFiles(client: LxdClient, instance: string, files: readonly NodeFile[]): Promise<void> {
  const call: CallContext = { operation: 'push-file', instance };
  const prefix = await client.headerPrefix();
  const canModifyExisting = (await client.server()).apiExtensions.includes(MODIFY_PERMISSIONS_EXTENSION);
  for (const directory of parentsOfAll(files)) {
    // Pushing a directory that exists is accepted (and leaves it as it is).
    await client.call('POST', filesPath(instance, directory), call, {
      headers: ownerHeaders(prefix, 'directory', 0, 0, 0o755, false),
      timeoutMs: FILE_TIMEOUT_MS,
    });
  }
  for (const file of files) {
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

/**
 * The directories the host must make for files that ask for their parents (it makes none itself), each
 * once, every one after its own parent.
 */
export function parentsOfAll(files: readonly Pick<NodeFile, 'path' | 'createParents'>[]): string[] {
  const directories = new Set<string>();
  for (const file of files) {
    if (file.createParents) for (const directory of parentsOf(file.path)) directories.add(directory);
  }
  return [...directories];
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
