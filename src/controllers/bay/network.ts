import type { Bay, HostAggregate } from '../../api/types.generated.js';
import {
  bayBridgeName,
  BayNetworkError,
  nodeAddress,
  type BayNetwork,
  type BayNetworkSpec,
  type HostProvider,
  type NodeNetwork,
} from '../../hosts/index.js';

/**
 * Where a bay's node plugs in. Shared mode: the aggregate's bridge, with an address from its DHCP
 * server. Isolated mode: the bay's own bridge on that host (made on first use), a fixed address for the
 * node's index, and anti-spoofing filters.
 */

export function bayNetworkSpec(bay: Bay, aggregate: HostAggregate): BayNetworkSpec {
  return {
    name: bayBridgeName(bay.metadata.uid!),
    owner: { bayUid: bay.metadata.uid!, namespace: bay.metadata.namespace!, bayName: bay.metadata.name! },
    subnetPool: aggregate.spec.network.subnetPool,
    prefixLength: aggregate.spec.network.baySubnetPrefixLength,
  };
}

/** The bay's bridges, one per host machine (by inventory key), each asked for once per reconcile. */
export type BayNetworks = Map<string, Promise<BayNetwork>>;

export async function nodeNetwork(
  networks: BayNetworks,
  bay: Bay,
  host: { readonly inventoryKey: string; readonly provider: HostProvider; readonly aggregate: HostAggregate },
  index: number,
): Promise<NodeNetwork> {
  const settings = host.aggregate.spec.network;
  if (settings.mode === 'shared') return { bridge: settings.bridge };
  let network = networks.get(host.inventoryKey);
  if (!network) {
    network = host.provider.ensureBayNetwork(bayNetworkSpec(bay, host.aggregate));
    networks.set(host.inventoryKey, network);
  }
  const bridge = await network;
  const ipv4Address = nodeAddress(bridge, index);
  if (ipv4Address === undefined) {
    throw new BayNetworkError(
      { host: host.provider.name, operation: 'plan-node-address' },
      'subnet-full',
      `the bay's subnet ${bridge.subnet} has no address for node index ${index}; ` +
        'a larger baySubnetPrefixLength gives new bays more room',
    );
  }
  return { bridge: bridge.name, ipv4Address, antiSpoofing: true };
}
