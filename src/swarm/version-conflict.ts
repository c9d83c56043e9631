import { SwarmError } from './errors.js';

/** A concurrent change (another operator replica, a user's `docker node update`) makes an update stale. */
const ATTEMPTS = 3;

/**
 * Runs a read-modify-write again when dockerd answers "update out of sequence": the object changed
 * between the read and the write, so the next attempt reads the new version.
 */
export async function retryOnVersionConflict<T>(readModifyWrite: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readModifyWrite();
    } catch (error) {
      if (!(error instanceof SwarmError) || error.code !== 'conflict' || attempt >= ATTEMPTS) throw error;
    }
  }
}
