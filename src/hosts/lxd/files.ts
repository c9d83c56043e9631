import { posix } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';

import { HostApiError } from '../errors.js';
import type { NodeFile } from '../types.js';
import type { CallContext, CallOptions, LxdClient } from './client.js';
import { isNotFound } from './envelope.js';
import type { HttpMethod } from './transport.js';

const FILE_TIMEOUT_MS = 60_000;

/**
 * The pauses between tries of a file call that met the file helper race (see `isFileHelperRace`): about
 * 24 s in all, past the 10–15 s after which the broken helper exits idle and the next call starts anew.
 */
export const FILE_HELPER_RETRY_DELAYS_MS: readonly number[] = [250, 500, 1_000, 2_000, 4_000, 8_000, 8_000];

/**
 * Writes files into an instance, in order, each with `POST /1.0/instances/<name>/files?path=...`: raw
 * bytes as the body, owner and mode in `X-LXD-*` headers (`X-Incus-*` on Incus). Works on stopped
 * instances too (the host mounts the root filesystem), which is how a node gets its hostname and
 * certificates before its first boot. The uid/gid are the node's own; the host shifts them into the
 * node's id range. The parent directories any file asks for are made once, before the first file:
 * each is a call to the host, and a node's dockerd files share most of theirs.
 */
export async function pushFiles(
  client: LxdClient,
  instance: string,
  files: readonly NodeFile[],
  retryDelaysMs: readonly number[] = FILE_HELPER_RETRY_DELAYS_MS,
): Promise<void> {
  const call: CallContext = { operation: 'push-file', instance };
  const prefix = await client.headerPrefix();
  const canModifyExisting = (await client.server()).apiExtensions.includes(MODIFY_PERMISSIONS_EXTENSION);
  const fileCall = (method: HttpMethod, path: string, options: CallOptions): Promise<unknown> =>
    retryingFileHelperRace(() => client.call(method, filesPath(instance, path), call, options), retryDelaysMs);
  for (const directory of parentsOfAll(files)) {
    // Pushing a directory that exists is accepted (and leaves it as it is).
    await fileCall('POST', directory, {
      headers: ownerHeaders(prefix, 'directory', 0, 0, 0o755, false),
      timeoutMs: FILE_TIMEOUT_MS,
    });
  }
  for (const file of files) {
    // Without the extension an overwritten file keeps its old owner and mode (a key once pushed 0644
    // would stay readable), so the old file goes first.
    if (!canModifyExisting) {
      await fileCall('DELETE', file.path, { timeoutMs: FILE_TIMEOUT_MS }).catch((error: unknown) => {
        if (!isNotFound(error)) throw error;
      });
    }
    const data = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
    await fileCall('POST', file.path, {
      headers: ownerHeaders(prefix, 'file', file.uid ?? 0, file.gid ?? 0, file.mode, canModifyExisting),
      body: { kind: 'bytes', contentType: 'application/octet-stream', data },
      timeoutMs: FILE_TIMEOUT_MS,
    });
  }
}

/**
 * LXD and Incus reach a node's files through a helper process per node, at a socket named through
 * /proc/self/fd/<N>. When nodes are created side by side (likeliest on btrfs, where a copy is instant),
 * one helper's shutdown can unlink another node's socket (canonical/lxd#18403): every file call to that
 * node then fails, `forkfile.sock: no such file or directory` or `connection reset by peer`, until its
 * helper exits idle and the next call starts a new one.
 */
export function isFileHelperRace(error: unknown): boolean {
  return error instanceof HostApiError && error.message.includes('forkfile.sock');
}

/** Each call here writes or removes one path, so trying it again after the race is harmless. */
async function retryingFileHelperRace<T>(attempt: () => Promise<T>, delaysMs: readonly number[]): Promise<T> {
  for (const delay of delaysMs) {
    try {
      return await attempt();
    } catch (error) {
      if (!isFileHelperRace(error)) throw error;
    }
    await wait(delay);
  }
  return attempt();
}

/** LXD ≥ 5.x: `X-LXD-modify-perm` applies owner and mode to a file that already exists. */
const MODIFY_PERMISSIONS_EXTENSION = 'instances_files_modify_permissions';

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
