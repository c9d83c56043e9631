import { HostTimeoutError } from './errors.js';
import type { HostProvider } from './provider.js';
import type { NodeInfo } from './types.js';

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
}

/**
 * Polls until the node is running with an IPv4 address on eth0 (its DHCP client got a lease).
 * Returns the node as last seen.
 */
export async function waitForNodeAddress(
  provider: HostProvider,
  name: string,
  options: PollOptions,
): Promise<NodeInfo & { readonly ipv4Address: string }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const node = await provider.getNode(name);
    if (node?.status === 'running' && node.ipv4Address !== undefined) return { ...node, ipv4Address: node.ipv4Address };
    if (Date.now() >= deadline) {
      throw new HostTimeoutError({ host: provider.name, operation: 'wait-for-address', instance: name }, options.timeoutMs);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
