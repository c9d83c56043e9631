import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { lxdArchitecture } from './recipe.js';
import type { NodeImageRecipe } from './recipe.js';
import { runLogged } from './run-command.js';

export interface ImageMetadata {
  readonly recipe: NodeImageRecipe;
  readonly recipeHash: string;
  /** Seconds since the epoch; fixed per cached build so the metadata tarball is reproducible. */
  readonly creationDate: number;
}

/** metadata.yaml of a split image: LXD requires `architecture` and `creation_date`. */
export function metadataYaml(metadata: ImageMetadata): string {
  const { recipe } = metadata;
  return [
    `architecture: ${lxdArchitecture(recipe.architecture)}`,
    `creation_date: ${metadata.creationDate}`,
    'properties:',
    `  description: "marina node: Debian ${recipe.suite} ${recipe.variant} with Docker"`,
    '  os: debian',
    `  release: ${recipe.suite}`,
    `  architecture: ${recipe.architecture}`,
    `  marina.recipe: "${metadata.recipeHash}"`,
    '',
  ].join('\n');
}

/**
 * Writes the metadata tarball with fixed owner, mode and mtime, so the same metadata always gives the
 * same bytes — and the image the same fingerprint.
 */
export async function writeMetadataTarball(metadata: ImageMetadata, output: string, logFile: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'marina-image-metadata-'));
  try {
    await writeFile(join(dir, 'metadata.yaml'), metadataYaml(metadata), { mode: 0o644 });
    await runLogged(
      'tar',
      [
        '--sort=name',
        '--owner=0',
        '--group=0',
        '--numeric-owner',
        `--mtime=@${metadata.creationDate}`,
        '--mode=u=rw,go=r',
        '-C',
        dir,
        '-cf',
        output,
        'metadata.yaml',
      ],
      logFile,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
