import type { ImageBuildResult } from '../../../src/cli/image.js';
import { buildNodeImage } from '../../../src/cli/image.js';
import type { LxdTestHost } from './host.js';

const built = new Map<string, Promise<ImageBuildResult>>();

/**
 * The node image on the test host under its default alias: built with debootstrap the first time
 * (about a minute), then taken from the cache in well under a second.
 */
export function testNodeImage(host: LxdTestHost): Promise<ImageBuildResult> {
  let result = built.get(host.socketEndpoint);
  if (!result) {
    result = buildNodeImage({
      endpoint: host.socketEndpoint,
      log: (line) => console.info(`node image (${host.cli}): ${line}`),
    });
    built.set(host.socketEndpoint, result);
  }
  return result;
}
