import { formatAddress, parseAddress, parseRange, rangeContains, rangeSize, type Ipv4Range } from '../../hosts/ipv4.js';

/** How long a granted address is held for a node that does not show on its host yet. */
const GRANT_TTL_MS = 10 * 60_000;

/**
 * How long an address another node used is not handed out again while others are free. The peers of a
 * node just deleted still hold its address with its MAC in their neighbour tables, and swarm state
 * about it: a new manager given that address at once could not be reached by the leader when it
 * joined ("could not connect to prospective new cluster member"), as DHCP servers avoid for the same
 * reason.
 */
const REUSE_AFTER_MS = 10 * 60_000;

interface Grant {
  readonly range: string;
  readonly address: string;
  readonly at: number;
}

/** What one node asks of the book: its range, the address it already has, and what others use. */
export interface AddressRequest {
  readonly node: string;
  /** The aggregate's nodeAddresses, e.g. `10.0.50.128/25`. */
  readonly range: string;
  /** Never given out: the network's router and, for a range that is the whole subnet, its ends. */
  readonly reserved: readonly string[];
  /** The address the node's instance is configured with, or status recorded, when it exists. */
  readonly current?: string;
  /** Addresses of every other node on the network, as hosts and bay statuses report them. */
  readonly taken: Iterable<string>;
}

/**
 * Node addresses on a network of the hosts (bridged mode), across all bays of this operator. A node's
 * address lives on its instance (the NIC's `ipv4.address`) and in its bay's status, where the next
 * observation finds it; the book only holds what it granted until then, so two nodes planned at the
 * same moment never get the same address. Reads and grants are synchronous: reconciles never interleave here.
 */
export class NodeAddressBook {
  private readonly grants = new Map<string, Grant>();
  /** When each address was last seen in use by a node. */
  private readonly lastSeen = new Map<string, number>();

  /**
   * The node's address: the one it has, else the lowest free one of the range that no node used
   * lately (else the lowest free one); undefined when full.
   */
  addressFor(request: AddressRequest, now = Date.now()): string | undefined {
    const taken = [...request.taken];
    for (const address of taken) this.lastSeen.set(address, now);
    const range = parseRange(request.range);
    if (request.current !== undefined && inRange(range, request.current)) return request.current;
    const held = this.grants.get(request.node);
    if (held && held.range === request.range && now - held.at <= GRANT_TTL_MS) return held.address;
    const used = new Set([...taken, ...request.reserved, ...this.grantedToOthers(request.node, now)]);
    const address = firstFree(range, new Set([...used, ...this.usedLately(now)])) ?? firstFree(range, used);
    if (address !== undefined) this.grants.set(request.node, { range: request.range, address, at: now });
    return address;
  }

  /** The node exists with its address now, or will never be made: its grant is no longer needed. */
  settle(node: string): void {
    this.grants.delete(node);
  }

  private *usedLately(now: number): Iterable<string> {
    for (const [address, at] of this.lastSeen) {
      if (now - at > REUSE_AFTER_MS) this.lastSeen.delete(address);
      else yield address;
    }
  }

  private *grantedToOthers(node: string, now: number): Iterable<string> {
    for (const [holder, grant] of this.grants) {
      if (now - grant.at > GRANT_TTL_MS) this.grants.delete(holder);
      else if (holder !== node) yield grant.address;
    }
  }
}

function inRange(range: Ipv4Range, address: string): boolean {
  try {
    return rangeContains(range, parseAddress(address));
  } catch {
    return false;
  }
}

/** The range's network and broadcast addresses are skipped when it has any others. */
function firstFree(range: Ipv4Range, used: ReadonlySet<string>): string | undefined {
  const size = rangeSize(range);
  const [first, last] = size > 2 ? [range.base + 1, range.base + size - 2] : [range.base, range.base + size - 1];
  for (let address = first; address <= last; address++) {
    const text = formatAddress(address);
    if (!used.has(text)) return text;
  }
  return undefined;
}
