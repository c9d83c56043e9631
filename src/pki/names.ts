import { isIP } from 'node:net';
import { InvalidIssueRequestError } from './errors.js';

/**
 * Subject alternative names for server certificates. Go and Node check only SANs (never the CN), and
 * when the client dials an IP only IP SANs count, so every address a client may use must be here.
 */

/** What a node's dockerd is also reached as from inside the node (`docker -H tcp://127.0.0.1:2376`). */
export const LOOPBACK_NAMES = { ipAddresses: ['127.0.0.1'], dnsNames: ['localhost'] } as const;

// RFC 1123 labels; a leading `*.` wildcard is allowed by TLS clients but marina never issues one.
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

export function checkIpAddresses(addresses: readonly string[]): string[] {
  for (const address of addresses) {
    if (isIP(address) === 0) throw new InvalidIssueRequestError(`${JSON.stringify(address)} is not an IP address`);
  }
  return unique(addresses);
}

export function checkDnsNames(names: readonly string[]): string[] {
  for (const name of names) {
    if (!DNS_NAME.test(name)) throw new InvalidIssueRequestError(`${JSON.stringify(name)} is not a DNS name`);
  }
  return unique(names.map((name) => name.toLowerCase()));
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
