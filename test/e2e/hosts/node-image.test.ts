import { beforeAll, describe, expect, it } from 'vitest';

import { buildNodeImage } from '../../../src/cli/image.js';
import type { ImageBuildResult } from '../../../src/cli/image.js';
import type { LxdTestHost } from '../../support/lxd/index.js';
import { lxcFor, lxdTestHost, testNodeImage } from '../../support/lxd/index.js';

/** One image as `lxc image list --format json` shows it. */
interface LxcImage {
  readonly fingerprint: string;
  readonly aliases: readonly { readonly name: string }[];
}

/** `marina image build`: debootstrap once, then the cache and the host's copy are reused. */
describe('the node image', () => {
  let host: LxdTestHost;
  let first: ImageBuildResult;

  beforeAll(async () => {
    host = await lxdTestHost();
    first = await testNodeImage(host);
  });

  it('is on the host under its alias, with the fingerprint the build computed', async () => {
    const images = JSON.parse(await lxcFor(host).must(['image', 'list', '--format', 'json'])) as LxcImage[];
    const aliased = images.filter((image) => image.aliases.some((alias) => alias.name === first.alias));

    expect(aliased.map((image) => image.fingerprint)).toEqual([first.fingerprint]);
  });

  it('building it again reuses the cached root filesystem and skips the import, in seconds', async () => {
    const started = Date.now();
    const again = await buildNodeImage({ endpoint: host.socketEndpoint });
    const elapsedMs = Date.now() - started;

    expect(again).toMatchObject({ fingerprint: first.fingerprint, built: false, imported: false });
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
