import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { CachedImage } from './cache.js';
import { splitImageFingerprint } from './fingerprint.js';
import { writeMetadataTarball } from './metadata.js';
import type { NodeImageRecipe } from './recipe.js';
import { recipeHash } from './recipe.js';
import type { RootfsFormat } from './rootfs.js';
import { customizeRootfs, debootstrapRootfs, packRootfs } from './rootfs.js';

export interface ImageBuildInputs {
  readonly recipe: NodeImageRecipe;
  readonly format: RootfsFormat;
  readonly mirror: string;
  /** Shared across builds: downloaded .deb files. */
  readonly debCache: string;
  readonly logFile: string;
  readonly progress: (step: string) => void;
}

/**
 * Builds the split image's two files into `staging`: debootstrap into a scratch tree, customise it,
 * pack it, write the metadata tarball, and compute the fingerprint the host will report.
 */
export async function buildImageFiles(staging: string, inputs: ImageBuildInputs): Promise<CachedImage> {
  if (process.getuid?.() !== 0) throw new Error('building a node image needs root (debootstrap, numeric owners)');
  const started = Date.now();
  const hash = recipeHash(inputs.recipe);
  const tree = join(staging, 'rootfs');
  const rootfsFile = inputs.format === 'squashfs' ? 'rootfs.squashfs' : 'rootfs.tar';
  const metadataFile = 'metadata.tar';
  await mkdir(tree);
  try {
    inputs.progress(`debootstrap ${inputs.recipe.suite} (${inputs.recipe.packages.length} extra packages)`);
    await debootstrapRootfs(tree, inputs.recipe, inputs.mirror, inputs.debCache, inputs.logFile);
    await customizeRootfs(tree);
    inputs.progress(`packing the root filesystem as ${inputs.format}`);
    await packRootfs(tree, join(staging, rootfsFile), inputs.format, inputs.logFile);
  } finally {
    await rm(tree, { recursive: true, force: true });
  }
  const creationDate = Math.floor(Date.now() / 1000);
  await writeMetadataTarball({ recipe: inputs.recipe, recipeHash: hash, creationDate }, join(staging, metadataFile), inputs.logFile);
  const fingerprint = await splitImageFingerprint(join(staging, metadataFile), join(staging, rootfsFile));
  return {
    recipe: inputs.recipe,
    recipeHash: hash,
    format: inputs.format,
    fingerprint,
    creationDate,
    metadataFile,
    rootfsFile,
    buildMs: Date.now() - started,
  };
}
