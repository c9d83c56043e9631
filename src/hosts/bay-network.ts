import { createHash } from 'node:crypto';
import { formatAddress, formatRange, parseRange, rangeSize, rangeWithout, type Ipv4Range } from './ipv4.js';
import type { BayNetwork } from './types.js';

/**
 * The walls of isolated mode, independent of the host's API: each bay has a bridge of its own on every
 * host it uses, with a subnet from the aggregate's pool; what leaves a bay's bridge for any other address
 * of the pool is refused, and so is what arrives from one. Traffic inside the bay's subnet stays free.
 */

/** Addresses below this offset in a bay's subnet are the gateway's and spare; node N gets offset + N. */
export const FIRST_NODE_OFFSET = 10;

/** `mb-` and ten hex digits of the bay's uid: an interface name (≤ 15 characters) no other bay shares. */
export function bayBridgeName(bayUid: string): string {
  return `mb-${createHash('sha256').update(bayUid).digest('hex').slice(0, 10)}`;
}

/** The bridge's gateway address with prefix, as LXD's `ipv4.address` takes it. */
export function gatewayCidr(subnet: Ipv4Range): string {
  return `${formatAddress(subnet.base + 1)}/${subnet.prefixLength}`;
}

export function bayNetworkOf(name: string, subnet: Ipv4Range): BayNetwork {
  return { name, subnet: formatRange(subnet), gateway: formatAddress(subnet.base + 1) };
}

/** How many node indexes a subnet holds (the broadcast address is not one). */
export const nodeCapacity = (subnet: Ipv4Range): number => rangeSize(subnet) - FIRST_NODE_OFFSET - 1;

/**
 * The fixed address of node `index` in its bay's subnet: known before the node exists, the same after
 * any crash, and never another node's. undefined when the subnet has no room for that index.
 */
export function nodeAddress(network: BayNetwork, index: number): string | undefined {
  const subnet = parseRange(network.subnet);
  if (!Number.isInteger(index) || index < 0 || index >= nodeCapacity(subnet)) return undefined;
  return formatAddress(subnet.base + FIRST_NODE_OFFSET + index);
}

/** The rest of the pool, which the bay's bridge refuses in both directions. */
export function walledRanges(subnetPool: string, subnet: string): string[] {
  return rangeWithout(parseRange(subnetPool), parseRange(subnet)).map(formatRange);
}
