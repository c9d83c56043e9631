import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** LXD's fingerprint of a split image: SHA-256 over the metadata tarball's bytes, then the rootfs's. */
export async function splitImageFingerprint(metadataPath: string, rootfsPath: string): Promise<string> {
  const hash = createHash('sha256');
  for (const path of [metadataPath, rootfsPath]) {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}
