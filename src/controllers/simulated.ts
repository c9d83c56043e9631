import type { SimWorld } from '../hosts/sim/index.js';
import { inspectCertificate } from '../pki/index.js';
import { SwarmError } from '../swarm/index.js';
import type { NodeDockerFactory, ServedCertificateReader } from './bay/deps.js';

/**
 * How the bay controller reaches nodes' dockerd in a simulated world (the fleet benchmark, the
 * orchestration tests): the world's dockerd stands in for the real one, and the certificate a node
 * serves is the one its simulated dockerd read when it last started.
 */
export function simulatedNodeAccess(world: SimWorld): {
  docker: NodeDockerFactory;
  servedCertificate: ServedCertificateReader;
} {
  return {
    docker: (_tls, address, timeoutMs) => world.dockerClient(address, timeoutMs === undefined ? {} : { timeoutMs }),
    servedCertificate: (_tls, address) => {
      const chain = world.servedCertificate(address);
      if (!chain)
        return Promise.reject(
          new SwarmError(
            'unreachable',
            { address: `${address}:2376`, operation: 'read-served-certificate' },
            'no TLS listener',
          ),
        );
      return Promise.resolve(inspectCertificate(chain).serial);
    },
  };
}
