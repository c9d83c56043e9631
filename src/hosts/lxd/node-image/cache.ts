import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';

import type { RootfsFormat } from './rootfs.js';
import type { NodeImageRecipe } from './recipe.js';

/**
 * A built image in the cache: `<cache>/node-images/<recipe hash>/` holds metadata.tar, the rootfs and
 * image.json (this manifest). A directory only appears complete: it is built under a temporary name
 * and renamed, so an interrupted build never looks cached.
 */
export interface CachedImage {
  readonly recipe: NodeImageRecipe;
  readonly recipeHash: string;
  readonly format: RootfsFormat;
  readonly fingerprint: string;
  readonly creationDate: number;
  readonly metadataFile: string;
  readonly rootfsFile: string;
  readonly buildMs: number;
}

export interface CachedImagePaths {
  readonly dir: string;
  readonly metadataPath: string;
  readonly rootfsPath: string;
}

const MANIFEST = 'image.json';

/** `$MARINA_CACHE`, else `$XDG_CACHE_HOME/marina`, else `~/.cache/marina` (as tools/ scripts use). */
export function defaultCacheRoot(): string {
  const env = process.env;
  return env.MARINA_CACHE ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'marina');
}

export function imageDir(cacheRoot: string, recipeHash: string, format: RootfsFormat): string {
  return join(cacheRoot, 'node-images', `${recipeHash.slice(0, 24)}-${format}`);
}

export function pathsOf(dir: string, image: CachedImage): CachedImagePaths {
  return { dir, metadataPath: join(dir, image.metadataFile), rootfsPath: join(dir, image.rootfsFile) };
}

/** The cached image in `dir`, or undefined when it is absent or incomplete. */
export async function readCachedImage(dir: string): Promise<CachedImage | undefined> {
  let image: CachedImage;
  try {
    image = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8')) as CachedImage;
  } catch {
    return undefined;
  }
  const paths = pathsOf(dir, image);
  const present = await Promise.all([paths.metadataPath, paths.rootfsPath].map(isFile));
  return present.every(Boolean) ? image : undefined;
}

/**
 * Runs `build` in a fresh staging directory and publishes it as `dir`. When another build published
 * `dir` first, that one is kept and this one discarded.
 */
export async function publishCachedImage(
  dir: string,
  build: (staging: string) => Promise<CachedImage>,
): Promise<CachedImage> {
  const staging = `${dir}.partial-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  try {
    const image = await build(staging);
    await writeFile(join(staging, MANIFEST), `${JSON.stringify(image, null, 2)}\n`);
    await rename(staging, dir).catch(async (error: unknown) => {
      const winner = await readCachedImage(dir);
      if (!winner) throw error;
    });
    return (await readCachedImage(dir)) ?? image;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Removes cached images of other recipes: a recipe change makes them dead weight (~170 MB each). */
export async function pruneOtherImages(keep: string, suite: string): Promise<string[]> {
  const parent = dirname(keep);
  const removed: string[] = [];
  for (const entry of await readdir(parent)) {
    if (entry === basename(keep) || entry.includes('.partial-')) continue;
    // Images of other suites are kept: a fleet may run bookworm and trixie nodes side by side.
    const other = await readCachedImage(join(parent, entry)).catch(() => undefined);
    if (other && other.recipe.suite !== suite) continue;
    await rm(join(parent, entry), { recursive: true, force: true });
    removed.push(entry);
  }
  return removed;
}
