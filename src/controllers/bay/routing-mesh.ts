import { probeKernelFeatures, type HostProvider } from '../../hosts/index.js';
import type { RoutingMeshProbe } from './swarm.js';

/**
 * Asks a node's kernel, through the node's host, whether it has IPVS, which swarm's routing mesh needs
 * (see foundSwarm). `providerOf` finds the host of a node of the bay by its name.
 */
export function routingMeshProbe(providerOf: (node: string) => HostProvider | undefined): RoutingMeshProbe {
  return async (node) => {
    const provider = providerOf(node);
    const features = provider && (await probeKernelFeatures(provider, node));
    return features?.includes('ip_vs');
  };
}
