import type { AggregateHost, Bay, HostAggregate } from '../../api/types.generated.js';
import type { HostProvider, NodeInfo } from '../../hosts/index.js';
import type { HostInventory, HostView } from '../hosts/inventory.js';
import type { HostRegistry } from '../hosts/registry.js';
import { hostKey } from './names.js';
import type { DiscoveredNode } from './plan.js';

/** One host of one aggregate, with its provider when marina can talk to it and what was last seen there. */
export interface HostRef {
  readonly key: string;
  readonly aggregate: HostAggregate;
  readonly host: AggregateHost;
  readonly provider: HostProvider | undefined;
  readonly view: HostView | undefined;
}

export interface Discovery {
  readonly hosts: ReadonlyMap<string, HostRef>;
  readonly discovered: readonly DiscoveredNode[];
  /** Host key → why its nodes could not be listed. */
  readonly unreachable: ReadonlyMap<string, string>;
}

/**
 * Phase 2a: what exists. The bay's nodes are picked by the bay's uid out of each host's last
 * observation (ownership is read from the hosts, never remembered), so a restarted operator adopts what
 * it built. Observations are shared by all bays and at most `maxAgeMs` old; 0 asks every host afresh.
 */
export async function discoverBayNodes(
  bay: Bay,
  aggregates: readonly HostAggregate[],
  registry: HostRegistry,
  inventory: HostInventory,
  maxAgeMs: number,
): Promise<Discovery> {
  const hosts = new Map<string, HostRef>();
  const unreachable = new Map<string, string>();
  const discovered: DiscoveredNode[] = [];
  await Promise.all(
    aggregates.flatMap((aggregate) =>
      aggregate.spec.hosts.map(async (host) => {
        const key = hostKey(aggregate.metadata.name!, host.name);
        const handle = registry.handle(aggregate, host);
        if (!handle.ok) {
          hosts.set(key, { key, aggregate, host, provider: undefined, view: undefined });
          unreachable.set(key, handle.message);
          return;
        }
        const view = await inventory.observe(key, handle.provider, maxAgeMs);
        hosts.set(key, { key, aggregate, host, provider: handle.provider, view });
        if (!view.ok) {
          unreachable.set(key, view.error instanceof Error ? view.error.message : String(view.error));
          return;
        }
        for (const node of view.nodes.values()) {
          if (node.ownership?.bayUid === bay.metadata.uid) discovered.push(toDiscovered(node, aggregate.metadata.name!, host.name));
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
    info: node,
  };
}
