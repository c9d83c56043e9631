import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Where the daemon on this machine listens, in the order the `lxc` and `incus` clients look
 * (canonical/lxd and lxc/incus `client/connection.go`): explicit environment first, then the snap,
 * the distribution packages, and Incus. Returns a `unix://` endpoint, or undefined when none is
 * writable by this process.
 */
export async function findLocalSocket(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  for (const path of candidateSockets(env)) {
    if (await writable(path)) return `unix://${path}`;
  }
  return undefined;
}

export function candidateSockets(env: NodeJS.ProcessEnv): string[] {
  const candidates: string[] = [];
  if (env.LXD_DIR) candidates.push(join(env.LXD_DIR, 'unix.socket'));
  if (env.INCUS_SOCKET) candidates.push(env.INCUS_SOCKET);
  if (env.INCUS_DIR) candidates.push(join(env.INCUS_DIR, 'unix.socket'));
  candidates.push(
    '/var/snap/lxd/common/lxd/unix.socket',
    '/var/lib/lxd/unix.socket',
    '/run/incus/unix.socket',
    '/var/lib/incus/unix.socket',
  );
  return candidates;
}

async function writable(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
