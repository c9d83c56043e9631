import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

import type { TlsHostCredentials } from '../hosts/credentials.js';
import { createLxdClient } from '../hosts/lxd/connect.js';
import { buildImageFiles } from '../hosts/lxd/node-image/build.js';
import type { CachedImage } from '../hosts/lxd/node-image/cache.js';
import {
  defaultCacheRoot,
  imageDir,
  pathsOf,
  pruneOtherImages,
  publishCachedImage,
  readCachedImage,
} from '../hosts/lxd/node-image/cache.js';
import { findDebianMirror } from '../hosts/lxd/node-image/apt-mirror.js';
import { publishImage } from '../hosts/lxd/node-image/publish.js';
import {
  aliasOfSuite,
  DEFAULT_SUITE,
  defaultRecipe,
  recipeHash,
  type NodeImageSuite,
} from '../hosts/lxd/node-image/recipe.js';
import type { NodeImageRecipe } from '../hosts/lxd/node-image/recipe.js';
import type { RootfsFormat } from '../hosts/lxd/node-image/rootfs.js';

export { DEFAULT_IMAGE_ALIAS } from '../hosts/lxd/node-image/recipe.js';

/** `marina image build`: build (or reuse) the node image and make sure the host has it under an alias. */
export interface ImageBuildOptions {
  /** The host: `unix:///var/lib/lxd/unix.socket` or `https://host:8443`. */
  readonly endpoint: string;
  /** Required for https endpoints. */
  readonly credentials?: TlsHostCredentials;
  /** Default `marina-node/<suite>`. */
  readonly alias?: string;
  /** The Debian suite: bookworm (default, Docker 20.10) or trixie (Docker 26). */
  readonly suite?: NodeImageSuite;
  /** Default `$MARINA_CACHE` or `~/.cache/marina`. */
  readonly cacheDir?: string;
  /** Debian mirror URL; default: the one this machine's apt sources use for the suite. */
  readonly mirror?: string;
  /** squashfs (smaller upload, default) or tar (faster to pack). */
  readonly format?: RootfsFormat;
  /** Build the root filesystem again even when the cache has it. */
  readonly rebuild?: boolean;
  /** Progress lines (to stderr in the CLI). */
  readonly log?: (line: string) => void;
}

export interface ImageBuildResult {
  readonly alias: string;
  readonly fingerprint: string;
  readonly recipeHash: string;
  /** The cache directory holding metadata.tar and the rootfs. */
  readonly cachePath: string;
  /** The root filesystem was built by this run (false: taken from the cache). */
  readonly built: boolean;
  /** The image was uploaded to the host by this run. */
  readonly imported: boolean;
  readonly buildMs: number;
  readonly importMs: number;
}

/** Everything a run decided before doing anything. */
interface BuildPlan {
  readonly recipe: NodeImageRecipe;
  readonly hash: string;
  readonly format: RootfsFormat;
  readonly cacheRoot: string;
  /** This recipe's cache directory. */
  readonly dir: string;
  readonly mirror: string | undefined;
  readonly log: (line: string) => void;
}

export async function buildNodeImage(options: ImageBuildOptions): Promise<ImageBuildResult> {
  const plan = planBuild(options);
  const alias = options.alias ?? aliasOfSuite(options.suite ?? DEFAULT_SUITE);

  const buildStarted = Date.now();
  if (options.rebuild) await rm(plan.dir, { recursive: true, force: true });
  const cached = await readCachedImage(plan.dir);
  const image = cached ?? (await buildIntoCache(plan));
  const buildMs = Date.now() - buildStarted;
  plan.log(
    cached
      ? `using cached image ${image.fingerprint.slice(0, 12)} (${plan.dir})`
      : `built image ${image.fingerprint.slice(0, 12)} in ${Math.round(image.buildMs / 1000)} s`,
  );

  const importStarted = Date.now();
  const client = createLxdClient(options.endpoint, options.credentials);
  try {
    await client.requireTrusted({ operation: 'import-image' });
    const outcome = await publishImage(client, image, pathsOf(plan.dir, image), alias);
    plan.log(describePublish(alias, outcome.imported, outcome.aliasChanged));
    return {
      alias,
      fingerprint: image.fingerprint,
      recipeHash: plan.hash,
      cachePath: plan.dir,
      built: cached === undefined,
      imported: outcome.imported,
      buildMs,
      importMs: Date.now() - importStarted,
    };
  } finally {
    client.close();
  }
}

function planBuild(options: ImageBuildOptions): BuildPlan {
  const recipe = defaultRecipe(undefined, options.suite);
  const hash = recipeHash(recipe);
  const format = options.format ?? 'squashfs';
  const cacheRoot = options.cacheDir ?? defaultCacheRoot();
  return {
    recipe,
    hash,
    format,
    cacheRoot,
    dir: imageDir(cacheRoot, hash, format),
    mirror: options.mirror,
    log: options.log ?? (() => undefined),
  };
}

async function buildIntoCache(plan: BuildPlan): Promise<CachedImage> {
  const mirror = plan.mirror ?? (await findDebianMirror(plan.recipe.suite));
  const logDir = join(plan.cacheRoot, 'logs');
  await mkdir(logDir, { recursive: true });
  const logFile = join(logDir, `node-image-${plan.hash.slice(0, 12)}.log`);
  plan.log(`building the node image from ${mirror} (log: ${logFile})`);
  const image = await publishCachedImage(plan.dir, (staging) =>
    buildImageFiles(staging, {
      recipe: plan.recipe,
      format: plan.format,
      mirror,
      debCache: join(plan.cacheRoot, 'debs'),
      logFile,
      progress: plan.log,
    }),
  );
  const pruned = await pruneOtherImages(plan.dir, plan.recipe.suite);
  if (pruned.length > 0) plan.log(`removed ${pruned.length} cached image(s) of earlier recipes`);
  return image;
}

function describePublish(alias: string, imported: boolean, aliasChanged: boolean): string {
  if (imported) return `imported the image and pointed ${alias} at it`;
  if (aliasChanged) return `the host had the image; pointed ${alias} at it`;
  return `${alias} already points at this image`;
}
