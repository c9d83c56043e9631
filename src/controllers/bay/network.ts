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
import { formatAddress, parseRange, rangeSize } from '../../hosts/ipv4.js';
import type { NodeAddressBook } from './node-addresses.js';

/**
 * Where a bay's node plugs in. Shared mode: the aggregate's bridge, with an address from its DHCP
 * server. Isolated mode: the bay's own bridge on that host (made on first use), a fixed address for the
 * node's index, and anti-spoofing filters. Bridged mode: the hosts' bridge onto their own network, an
 * address from the aggregate's nodeAddresses that the node sets itself, and anti-spoofing filters.
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
  bridged: () => BridgedNodeContext,
): Promise<NodeNetwork> {
  const settings = host.aggregate.spec.network;
  if (settings.mode === 'shared') return { bridge: settings.bridge };
  if (settings.mode === 'bridged') return bridgedNodeNetwork(host.aggregate, host.provider, bridged());
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

/** A node's place in the address book: what it has, and what every other node on the network uses. */
export interface BridgedNodeContext {
  readonly book: NodeAddressBook;
  readonly node: string;
  readonly current: string | undefined;
  readonly taken: Iterable<string>;
}

function bridgedNodeNetwork(
  aggregate: HostAggregate,
  host: HostProvider,
  context: BridgedNodeContext,
): NodeNetwork {
  const { bridge, subnet, gateway, nodeAddresses, nameservers } = aggregate.spec.network;
  if (subnet === undefined || gateway === undefined || nodeAddresses === undefined) {
    // Admission requires all three in bridged mode; the schema cannot say so to the type checker.
    throw new BayNetworkError(
      { host: host.name, operation: 'plan-node-address' },
      'misconfigured',
      'bridged mode needs subnet, gateway and nodeAddresses on the aggregate',
    );
  }
  const subnetRange = parseRange(subnet);
  const ends = [subnetRange.base, subnetRange.base + rangeSize(subnetRange) - 1].map(formatAddress);
  const ipv4Address = context.book.addressFor({
    node: context.node,
    range: nodeAddresses,
    reserved: [gateway, ...ends],
    current: context.current,
    taken: context.taken,
  });
  if (ipv4Address === undefined) {
    throw new BayNetworkError(
      { host: host.name, operation: 'plan-node-address' },
      'pool-full',
      `every address of nodeAddresses ${nodeAddresses} is in use; the aggregate needs a larger range`,
    );
  }
  const staticIpv4 = { prefixLength: subnetRange.prefixLength, gateway, nameservers: nameservers ?? [gateway] };
  return { bridge, ipv4Address, antiSpoofing: true, staticIpv4 };
}
