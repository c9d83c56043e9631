/**
 * IPv4 ranges as numbers: enough arithmetic for carving bay subnets out of a pool and for writing the
 * walls between them. Addresses are unsigned 32-bit integers; a range is its first address and prefix.
 */

export interface Ipv4Range {
  /** The range's first address. */
  readonly base: number;
  readonly prefixLength: number;
}

const OCTET = /^(25[0-5]|2[0-4]\d|1?\d?\d)$/;

export class Ipv4FormatError extends Error {
  constructor(readonly value: string) {
    super(`${JSON.stringify(value)} is not an IPv4 range such as 10.240.0.0/16`);
    this.name = 'Ipv4FormatError';
  }
}

export function parseAddress(text: string): number {
  const octets = text.split('.');
  if (octets.length !== 4 || !octets.every((o) => OCTET.test(o))) throw new Ipv4FormatError(text);
  return octets.reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function formatAddress(address: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256).join('.');
}

/** `10.240.0.0/16` → its range. A host address with a prefix (`10.240.3.1/24`) gives the range it lies in. */
export function parseRange(cidr: string): Ipv4Range {
  const [address, prefix, ...rest] = cidr.split('/');
  const prefixLength = Number(prefix);
  if (rest.length > 0 || !Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > 32) {
    throw new Ipv4FormatError(cidr);
  }
  try {
    return { base: rangeBase(parseAddress(address!), prefixLength), prefixLength };
  } catch {
    throw new Ipv4FormatError(cidr);
  }
}

export const formatRange = (range: Ipv4Range): string => `${formatAddress(range.base)}/${range.prefixLength}`;

export const rangeSize = (range: Ipv4Range): number => 2 ** (32 - range.prefixLength);

function rangeBase(address: number, prefixLength: number): number {
  const size = 2 ** (32 - prefixLength);
  return address - (address % size);
}

export function rangeContains(outer: Ipv4Range, address: number): boolean {
  return address >= outer.base && address < outer.base + rangeSize(outer);
}

export function rangesOverlap(a: Ipv4Range, b: Ipv4Range): boolean {
  return a.base < b.base + rangeSize(b) && b.base < a.base + rangeSize(a);
}

/** The first subrange of `prefixLength` in `pool` that overlaps none of `taken`; undefined when it is full. */
export function firstFreeSubrange(
  pool: Ipv4Range,
  prefixLength: number,
  taken: readonly Ipv4Range[],
): Ipv4Range | undefined {
  if (prefixLength < pool.prefixLength) return undefined;
  const step = 2 ** (32 - prefixLength);
  for (let base = pool.base; base < pool.base + rangeSize(pool); base += step) {
    const candidate = { base, prefixLength };
    if (!taken.some((t) => rangesOverlap(t, candidate))) return candidate;
  }
  return undefined;
}

/**
 * `outer` without `inner`, as the fewest ranges: the siblings of `inner` on its way up to `outer`
 * (10.240.0.0/16 without 10.240.3.0/24 is eight ranges, /17 down to /24).
 */
export function rangeWithout(outer: Ipv4Range, inner: Ipv4Range): Ipv4Range[] {
  if (!rangesOverlap(outer, inner)) return [outer];
  if (inner.prefixLength <= outer.prefixLength) return [];
  const rest: Ipv4Range[] = [];
  for (let prefixLength = outer.prefixLength + 1; prefixLength <= inner.prefixLength; prefixLength++) {
    const half = rangeBase(inner.base, prefixLength);
    const size = 2 ** (32 - prefixLength);
    const sibling = half % (2 * size) === 0 ? half + size : half - size;
    rest.push({ base: sibling, prefixLength });
  }
  return rest.sort((a, b) => a.base - b.base);
}
