import { Environment } from '@marcbachmann/cel-js';
import { isIP } from 'node:net';

/**
 * The part of Kubernetes' CEL network library (k8s.io/apiserver/pkg/cel/library/cidr.go and ip.go)
 * that marina's CRD rules use, so `marina validate` judges them offline as the apiserver does:
 * isCIDR(string), cidr(string), isIP(string), ip(string); on a CIDR: ip(), masked(), prefixLength(),
 * containsIP(string), containsCIDR(string); on an IP: family().
 */

export class CelIp {
  constructor(
    readonly family: 4 | 6,
    /** The address as an unsigned integer of 32 or 128 bits. */
    readonly value: bigint,
  ) {}
}

export class CelCidr {
  constructor(
    readonly ip: CelIp,
    readonly prefixLength: number,
  ) {}

  masked(): CelCidr {
    const bits = this.ip.family === 4 ? 32 : 128;
    const hostBits = BigInt(bits - this.prefixLength);
    const value = (this.ip.value >> hostBits) << hostBits;
    return new CelCidr(new CelIp(this.ip.family, value), this.prefixLength);
  }

  containsIp(ip: CelIp): boolean {
    return ip.family === this.ip.family && new CelCidr(ip, this.prefixLength).masked().equals(this.masked());
  }

  containsCidr(other: CelCidr): boolean {
    return other.prefixLength >= this.prefixLength && this.containsIp(other.ip);
  }

  equals(other: CelCidr): boolean {
    return (
      this.ip.family === other.ip.family && this.ip.value === other.ip.value && this.prefixLength === other.prefixLength
    );
  }
}

function parseIp(text: string): CelIp | undefined {
  const family = isIP(text);
  if (family === 4)
    return new CelIp(
      4,
      text.split('.').reduce((acc, o) => (acc << 8n) + BigInt(o), 0n),
    );
  if (family !== 6 || text.includes('%') || text.includes('.')) return undefined;
  const [head = '', tail] = text.split('::');
  const groups = (part: string): string[] => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = tail === undefined ? [] : groups(tail);
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return new CelIp(
    6,
    all.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g, 16)), 0n),
  );
}

/** Like Go's netip.ParsePrefix, which the apiserver uses: an address, a slash, a decimal prefix length. */
export function parseCidr(text: string): CelCidr | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (!ip || !/^(0|[1-9]\d{0,2})$/.test(prefix)) return undefined;
  const prefixLength = Number(prefix);
  return prefixLength <= (ip.family === 4 ? 32 : 128) ? new CelCidr(ip, prefixLength) : undefined;
}

function requireIp(text: string): CelIp {
  const parsed = parseIp(text);
  if (!parsed) throw new Error(`IP Address '${text}' parse error during conversion from string`);
  return parsed;
}

function requireCidr(text: string): CelCidr {
  const parsed = parseCidr(text);
  if (!parsed) throw new Error(`network address parse error during conversion from string: ${text}`);
  return parsed;
}

/** A CEL environment with the network functions; `self` is the value a rule judges. */
export function celEnvironment(): Environment {
  return new Environment({ unlistedVariablesAreDyn: true })
    .registerType('net.IP', CelIp)
    .registerType('net.CIDR', CelCidr)
    .registerFunction('isCIDR(string): bool', (text: string) => parseCidr(text) !== undefined)
    .registerFunction('cidr(string): net.CIDR', requireCidr)
    .registerFunction('isIP(string): bool', (text: string) => parseIp(text) !== undefined)
    .registerFunction('ip(string): net.IP', requireIp)
    .registerFunction({
      name: 'containsIP',
      receiverType: 'net.CIDR',
      returnType: 'bool',
      handler: (c: CelCidr, text: string) => c.containsIp(requireIp(text)),
      params: [{ name: 'ip', type: 'string' }],
    })
    .registerFunction({
      name: 'containsCIDR',
      receiverType: 'net.CIDR',
      returnType: 'bool',
      handler: (c: CelCidr, text: string) => c.containsCidr(requireCidr(text)),
      params: [{ name: 'cidr', type: 'string' }],
    })
    .registerFunction({
      name: 'ip',
      receiverType: 'net.CIDR',
      returnType: 'net.IP',
      handler: (c: CelCidr) => c.ip,
      params: [],
    })
    .registerFunction({
      name: 'masked',
      receiverType: 'net.CIDR',
      returnType: 'net.CIDR',
      handler: (c: CelCidr) => c.masked(),
      params: [],
    })
    .registerFunction({
      name: 'prefixLength',
      receiverType: 'net.CIDR',
      returnType: 'int',
      handler: (c: CelCidr) => BigInt(c.prefixLength),
      params: [],
    })
    .registerFunction({
      name: 'family',
      receiverType: 'net.IP',
      returnType: 'int',
      handler: (ip: CelIp) => BigInt(ip.family),
      params: [],
    })
    .registerOperator('net.CIDR == net.CIDR', (a: CelCidr, b: CelCidr) => a.equals(b));
}
