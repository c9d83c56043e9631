import { KERNEL_FEATURE_PROBE, parseKernelFeatures, type HostProvider } from '../../hosts/index.js';
import type { RoutingMeshProbe } from './swarm.js';

const PROBE_TIMEOUT_MS = 10_000;

/**
 * Asks a node's kernel, through the node's host, whether it has IPVS, which swarm's routing mesh needs
 * (see foundSwarm). `providerOf` finds the host of a node of the bay by its name.
 */
export function routingMeshProbe(providerOf: (node: string) => HostProvider | undefined): RoutingMeshProbe {
  return async (node) => {
    const provider = providerOf(node);
    if (!provider) return undefined;
    try {
      const probed = await provider.exec(node, KERNEL_FEATURE_PROBE, { timeoutMs: PROBE_TIMEOUT_MS });
      return probed.exitCode === 0 ? parseKernelFeatures(probed.stdout).includes('ip_vs') : undefined;
    } catch {
      return undefined;
    }
  };
}
