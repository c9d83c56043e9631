import type { AggregateHost, Bay, HostAggregate } from '../../api/types.generated.js';
import type { HostProvider, NodeInfo } from '../../hosts/index.js';
import type { HostRegistry } from '../host-registry.js';
import { hostKey } from './names.js';
import type { DiscoveredNode } from './plan.js';

/** One host of one aggregate, with its provider when marina can talk to it. */
export interface HostRef {
  readonly key: string;
  readonly aggregate: HostAggregate;
  readonly host: AggregateHost;
  readonly provider: HostProvider | undefined;
}

export interface Discovery {
  readonly hosts: ReadonlyMap<string, HostRef>;
  readonly discovered: readonly DiscoveredNode[];
  /** Host key → why its nodes could not be listed. */
  readonly unreachable: ReadonlyMap<string, string>;
}


/**
 * Phase 2a: what exists. Every host of every aggregate is asked for the bay's nodes by the bay's uid
 * (ownership is read from the hosts, never remembered), so a restarted operator adopts what it built.
 */
export async function discoverBayNodes(bay: Bay, aggregates: readonly HostAggregate[], registry: HostRegistry, signal?: AbortSignal): Promise<Discovery> {
  const hosts = new Map<string, HostRef>();
  const unreachable = new Map<string, string>();
  const discovered: DiscoveredNode[] = [];
  await Promise.all(
    aggregates.flatMap((aggregate) =>
      aggregate.spec.hosts.map(async (host) => {
        const key = hostKey(aggregate.metadata.name!, host.name);
        const handle = await registry.handle(aggregate, host, signal);
        hosts.set(key, { key, aggregate, host, provider: handle.ok ? handle.provider : undefined });
        if (!handle.ok) {
          unreachable.set(key, handle.message);
          return;
        }
        try {
          const nodes = await handle.provider.listNodes({ bayUid: bay.metadata.uid! });
          discovered.push(...nodes.map((n) => toDiscovered(n, aggregate.metadata.name!, host.name)));
        } catch (err) {
          unreachable.set(key, err instanceof Error ? err.message : String(err));
        }
      }),
    ),
  );
  return { hosts, discovered: discovered.sort((a, b) => a.index - b.index), unreachable };
}

function toDiscovered(node: NodeInfo, aggregate: string, host: string): DiscoveredNode {
  return {
    name: node.name,
    index: node.ownership!.index,
    role: node.ownership!.role,
    aggregate,
    host,
    running: node.status === 'running',
    ...(node.ipv4Address ? { address: node.ipv4Address } : {}),
  };
}
