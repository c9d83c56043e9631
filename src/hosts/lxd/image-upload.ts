import { basename } from 'node:path';

import { HostOperationError } from '../errors.js';
import type { LxdClient } from './client.js';
import { multipartFromFiles } from './multipart.js';

export interface SplitImage {
  /** Tarball holding metadata.yaml (and templates/). */
  readonly metadataPath: string;
  /** The root filesystem: squashfs or tarball. */
  readonly rootfsPath: string;
}

const UPLOAD_TIMEOUT_MS = 15 * 60_000;

/**
 * Imports a split image with `POST /1.0/images` as multipart/form-data. The host reads the parts in
 * order and requires `metadata` first, then `rootfs` (canonical/lxd `lxd/images.go`). Returns the
 * fingerprint the host computed: SHA-256 over the metadata bytes followed by the rootfs bytes.
 */
export async function uploadSplitImage(client: LxdClient, image: SplitImage): Promise<string> {
  const call = { operation: 'import-image' };
  const body = await multipartFromFiles([
    { name: 'metadata', path: image.metadataPath, filename: basename(image.metadataPath) },
    { name: 'rootfs', path: image.rootfsPath, filename: basename(image.rootfsPath) },
  ]);
  const operation = await client.run('POST', '/1.0/images', call, {
    body,
    timeoutMs: UPLOAD_TIMEOUT_MS,
    operationTimeoutMs: UPLOAD_TIMEOUT_MS,
  });
  const fingerprint = operation.metadata?.fingerprint;
  if (typeof fingerprint !== 'string') {
    throw new HostOperationError(client.context(call), 'the host did not report the imported image fingerprint');
  }
  return fingerprint;
}
