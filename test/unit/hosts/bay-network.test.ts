import { describe, expect, it } from 'vitest';
import { bayBridgeName, bayNetworkOf, nodeAddress, walledRanges } from '../../../src/hosts/bay-network.js';
import {
  firstFreeSubrange,
  formatRange,
  Ipv4FormatError,
  parseAddress,
  parseRange,
  rangeContains,
  rangeSize,
} from '../../../src/hosts/ipv4.js';

describe('IPv4 ranges', () => {
  it('reads a range from its start or from any address inside it', () => {
    expect(formatRange(parseRange('10.240.0.0/16'))).toBe('10.240.0.0/16');
    expect(formatRange(parseRange('10.240.3.1/24'))).toBe('10.240.3.0/24');
    expect(formatRange(parseRange('0.0.0.0/0'))).toBe('0.0.0.0/0');
  });

  it('refuses what is not an IPv4 range, with the text in the message', () => {
    for (const bad of ['10.240.0.0', '10.240.0.0/33', '10.256.0.0/16', 'fd00::/8', '10.240.0.0/16/2']) {
      expect(() => parseRange(bad)).toThrow(Ipv4FormatError);
    }
    expect(() => parseRange('10.1.2/8')).toThrow('"10.1.2/8" is not an IPv4 range');
  });

  it('finds the first subrange no existing network overlaps, and none when the pool is full', () => {
    const pool = parseRange('10.240.0.0/22');
    const taken = [parseRange('10.240.0.1/24'), parseRange('10.240.1.128/25')];
    expect(formatRange(firstFreeSubrange(pool, 24, taken)!)).toBe('10.240.2.0/24');
    // A wider network around the pool takes all of it.
    expect(firstFreeSubrange(pool, 24, [parseRange('10.0.0.0/8')])).toBeUndefined();
    expect(firstFreeSubrange(pool, 20, [])).toBeUndefined();
  });
});

describe("a bay's walls", () => {
  it("refuse the whole pool but the bay's own subnet, in the fewest ranges", () => {
    const walled = walledRanges('10.240.0.0/16', '10.240.3.0/24');
    expect(walled).toHaveLength(8);
    const ranges = walled.map(parseRange);
    const covered = ranges.reduce((sum, r) => sum + rangeSize(r), 0);
    expect(covered).toBe(2 ** 16 - 2 ** 8);
    const own = parseAddress('10.240.3.77');
    expect(ranges.some((r) => rangeContains(r, own))).toBe(false);
    for (const other of ['10.240.0.1', '10.240.2.255', '10.240.4.0', '10.240.255.254']) {
      expect(
        ranges.filter((r) => rangeContains(r, parseAddress(other))),
        other,
      ).toHaveLength(1);
    }
  });

  it('are the whole pool for a subnet outside it, and nothing for a subnet that is the pool', () => {
    expect(walledRanges('10.240.0.0/16', '10.9.0.0/24')).toEqual(['10.240.0.0/16']);
    expect(walledRanges('10.240.0.0/16', '10.240.0.0/16')).toEqual([]);
  });
});

describe("a node's fixed address", () => {
  const network = bayNetworkOf('mb-0123456789', parseRange('10.241.0.64/26'));

  it('follows the node index after the gateway and spare addresses, the same every time', () => {
    expect(network).toEqual({ name: 'mb-0123456789', subnet: '10.241.0.64/26', gateway: '10.241.0.65' });
    expect(nodeAddress(network, 0)).toBe('10.241.0.74');
    expect(nodeAddress(network, 7)).toBe('10.241.0.81');
  });

  it('is refused past the subnet, never the broadcast address or a neighbour subnet', () => {
    expect(nodeAddress(network, 52)).toBe('10.241.0.126');
    expect(nodeAddress(network, 53)).toBeUndefined();
    expect(nodeAddress(network, -1)).toBeUndefined();
  });
});

describe("a bay's bridge name", () => {
  it('is an interface name (≤ 15 characters) that differs per bay uid', () => {
    const a = bayBridgeName('5b0f1a2e-0000-4000-8000-000000000001');
    const b = bayBridgeName('5b0f1a2e-0000-4000-8000-000000000002');
    expect(a).toMatch(/^mb-[0-9a-f]{10}$/);
    expect(a.length).toBeLessThanOrEqual(15);
    expect(a).not.toBe(b);
    expect(bayBridgeName('5b0f1a2e-0000-4000-8000-000000000001')).toBe(a);
  });
});
