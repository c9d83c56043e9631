import { beforeAll, describe, expect, it } from 'vitest';

import { buildNodeImage } from '../../../src/cli/image.js';
import type { ImageBuildResult } from '../../../src/cli/image.js';
import { createHostProvider } from '../../../src/hosts/factory.js';
import type { LxdTestHost } from '../../support/lxd/index.js';
import { lxdTestHost, testNodeImage } from '../../support/lxd/index.js';

/** `marina image build`: debootstrap once, then the cache and the host's copy are reused. */
describe('the node image', () => {
  let host: LxdTestHost;
  let first: ImageBuildResult;

  beforeAll(async () => {
    host = await lxdTestHost();
    first = await testNodeImage(host);
  });

  it('is on the host under its alias, with the fingerprint the build computed', async () => {
    const provider = createHostProvider(host.socketEndpoint, undefined, { name: 'e2e-socket' });
    try {
      expect(await provider.findImage(first.alias)).toEqual({ alias: first.alias, fingerprint: first.fingerprint });
    } finally {
      provider.close();
    }
  });

  it('building it again reuses the cached root filesystem and skips the import, in seconds', async () => {
    const started = Date.now();
    const again = await buildNodeImage({ endpoint: host.socketEndpoint });
    const elapsedMs = Date.now() - started;

    expect(again).toMatchObject({ fingerprint: first.fingerprint, built: false, imported: false });
    expect(elapsedMs).toBeLessThan(5_000);
  });
});
