import { HostOperationError } from '../../errors.js';
import type { LxdClient } from '../client.js';
import { uploadSplitImage } from '../image-upload.js';
import { findImageAlias, imageExists, pointAlias } from '../images.js';
import type { CachedImage, CachedImagePaths } from './cache.js';

export interface PublishOutcome {
  /** The image was uploaded now (false: the host had it already). */
  readonly imported: boolean;
  /** The alias was created or moved to this image now. */
  readonly aliasChanged: boolean;
}

/**
 * Makes `alias` on the host point at the cached image, uploading it only when the host lacks an image
 * with that fingerprint. A second run with an unchanged image costs one `GET` of the alias.
 */
export async function publishImage(
  client: LxdClient,
  image: CachedImage,
  paths: CachedImagePaths,
  alias: string,
): Promise<PublishOutcome> {
  const current = await findImageAlias(client, alias);
  if (current?.fingerprint === image.fingerprint) return { imported: false, aliasChanged: false };
  let imported = false;
  if (!(await imageExists(client, image.fingerprint))) {
    const fingerprint = await uploadSplitImage(client, paths);
    if (fingerprint !== image.fingerprint) {
      throw new HostOperationError(
        { host: client.host, operation: 'import-image' },
        `the host computed fingerprint ${fingerprint}, the cache ${image.fingerprint}`,
      );
    }
    imported = true;
  }
  const { suite, variant } = image.recipe;
  await pointAlias(client, alias, image.fingerprint, `marina node image (Debian ${suite} ${variant} + Docker)`);
  if (current) await deleteIfUnaliased(client, current.fingerprint);
  return { imported, aliasChanged: true };
}

/**
 * The image the alias pointed to before is deleted unless another alias still names it. Nodes
 * created from it keep working: their root filesystems are copies, not references.
 */
async function deleteIfUnaliased(client: LxdClient, fingerprint: string): Promise<void> {
  const call = { operation: 'prune-image' };
  const image = await client.get<{ aliases?: unknown[] | null }>(`/1.0/images/${encodeURIComponent(fingerprint)}`, call);
  if ((image.aliases ?? []).length > 0) return;
  await client.run('DELETE', `/1.0/images/${encodeURIComponent(fingerprint)}`, call, { operationTimeoutMs: 120_000 });
}
