import { DEFAULT_NETWORK_CONFIG, type SimNetworkConfig } from './config.js';

/** Thrown when a configuration cannot describe a network, or a host's subnet is full. */
export class SimNetworkError extends Error {
  override readonly name = 'SimNetworkError';
}

/**
 * IPv4 arithmetic of the simulated network: host number `i` owns the i-th subnet of the base network;
 * its bridge has the subnet's first address, its nodes get the others. Addresses are integers inside.
 */
export class AddressPlan {
  private readonly base: number;
  private readonly subnetSize: number;
  readonly hostPrefix: number;
  readonly maxHosts: number;

  constructor(config: Partial<SimNetworkConfig> = {}) {
    const { base, hostPrefix } = { ...DEFAULT_NETWORK_CONFIG, ...config };
    const [network = '', bits = ''] = base.split('/');
    const basePrefix = Number(bits);
    if (!Number.isInteger(basePrefix) || basePrefix < 1 || basePrefix > 30) {
      throw new SimNetworkError(`bad base network ${base}`);
    }
    if (!Number.isInteger(hostPrefix) || hostPrefix < basePrefix || hostPrefix > 30) {
      throw new SimNetworkError(`host prefix /${hostPrefix} does not fit in ${base}`);
    }
    this.base = ipToInt(network);
    this.hostPrefix = hostPrefix;
    this.subnetSize = 2 ** (32 - hostPrefix);
    this.maxHosts = 2 ** (hostPrefix - basePrefix);
  }

  /** The bridge's own address with prefix, as LXD reports `ipv4.address`: `10.0.32.1/19`. */
  bridgeCidr(hostIndex: number): string {
    return `${intToIp(this.subnetStart(hostIndex) + 1)}/${this.hostPrefix}`;
  }

  /** Addresses a node of the host may get: after the bridge's, before the broadcast address. */
  nodeAddressCount(): number {
    return this.subnetSize - 3;
  }

  /** The n-th node address of the host (0-based). */
  nodeAddress(hostIndex: number, n: number): string {
    return intToIp(this.subnetStart(hostIndex) + 2 + n);
  }

  /** Whether `address` lies in the host's subnet and may be given to a node. */
  isNodeAddress(hostIndex: number, address: string): boolean {
    if (!isIpv4(address)) return false;
    const offset = ipToInt(address) - this.subnetStart(hostIndex);
    return offset >= 2 && offset < this.subnetSize - 1;
  }

  private subnetStart(hostIndex: number): number {
    if (hostIndex >= this.maxHosts) throw new SimNetworkError(`the network has room for ${this.maxHosts} hosts`);
    return this.base + hostIndex * this.subnetSize;
  }
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function isIpv4(text: string): boolean {
  const match = IPV4.exec(text);
  return match !== null && match.slice(1).every((octet) => Number(octet) <= 255);
}

function ipToInt(text: string): number {
  if (!isIpv4(text)) throw new SimNetworkError(`not an IPv4 address: ${text}`);
  return text.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
}

function intToIp(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
