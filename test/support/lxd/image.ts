import type { ImageBuildResult } from '../../../src/cli/image.js';
import { buildNodeImage } from '../../../src/cli/image.js';
import type { LxdTestHost } from './host.js';

let built: Promise<ImageBuildResult> | undefined;

/**
 * The node image on the test host under its default alias: built with debootstrap the first time
 * (about a minute), then taken from the cache in well under a second.
 */
export function testNodeImage(host: LxdTestHost): Promise<ImageBuildResult> {
  built ??= buildNodeImage({
    endpoint: host.socketEndpoint,
    log: (line) => console.info(`node image: ${line}`),
  });
  return built;
}
