import { HostTimeoutError } from './errors.js';
import type { HostProvider } from './provider.js';
import type { NodeInfo } from './types.js';

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /**
   * The node as the caller last read it (ensureNode's answer): returned with its new status and
   * address, so no full read follows the wait.
   */
  readonly node?: NodeInfo;
}

/**
 * Polls until the node is running with an IPv4 address on eth0 (its DHCP client got a lease), reading
 * only its run state: each poll is one light call, so a lease is noticed soon after it is given.
 * Returns the node as last seen.
 */
export async function waitForNodeAddress(
  provider: HostProvider,
  name: string,
  options: PollOptions,
): Promise<NodeInfo & { readonly ipv4Address: string }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const state = await provider.nodeState(name);
    if (state?.status === 'running' && state.ipv4Address !== undefined) {
      const node = options.node ?? (await provider.getNode(name));
      if (node) return { ...node, ...state, ipv4Address: state.ipv4Address };
    }
    if (Date.now() >= deadline) {
      throw new HostTimeoutError({ host: provider.name, operation: 'wait-for-address', instance: name }, options.timeoutMs);
    }
    await sleep(options.intervalMs ?? 150);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
