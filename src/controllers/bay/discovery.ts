import type { AggregateHost, Bay, HostAggregate } from '../../api/types.generated.js';
import { HostError, type HostErrorCode, type HostProvider, type NodeInfo } from '../../hosts/index.js';
import { inventoryKeyOf, type HostInventory, type HostView } from '../hosts/inventory.js';
import type { HostRegistry } from '../hosts/registry.js';
import { hostKey } from './names.js';
import type { DiscoveredNode } from './plan.js';

/** One host of one aggregate, with its provider when marina can talk to it and what was last seen there. */
export interface HostRef {
  /** `aggregate/host`, as status and conditions name it. */
  readonly key: string;
  /** The host's key in the inventory (its endpoint), shared by every aggregate listing the machine. */
  readonly inventoryKey: string;
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
 * A machine listed by several aggregates shows each node once, under the aggregate status recorded for
 * it: a node keeps its aggregate's settings.
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
  const found = new Map<string, DiscoveredNode[]>();
  const recordedAggregate = new Map((bay.status?.nodes ?? []).map((n) => [n.name, n.aggregate]));
  await Promise.all(
    aggregates.flatMap((aggregate) =>
      aggregate.spec.hosts.map(async (host) => {
        const key = hostKey(aggregate.metadata.name!, host.name);
        const inventoryKey = inventoryKeyOf(host);
        const handle = registry.handle(aggregate, host);
        if (!handle.ok) {
          hosts.set(key, { key, inventoryKey, aggregate, host, provider: undefined, view: undefined });
          unreachable.set(key, 'its connection is not configured (see the HostAggregate)');
          return;
        }
        const view = await inventory.observe(inventoryKey, handle.provider, maxAgeMs);
        hosts.set(key, { key, inventoryKey, aggregate, host, provider: handle.provider, view });
        if (!view.ok) {
          unreachable.set(key, hostAwayReason(view.error));
          return;
        }
        for (const node of view.nodes.values()) {
          if (node.ownership?.bayUid !== bay.metadata.uid) continue;
          found.set(node.name, [...(found.get(node.name) ?? []), toDiscovered(node, aggregate.metadata.name!, host.name)]);
        }
      }),
    ),
  );
  const discovered = [...found].map(([name, seen]) => seen.find((d) => d.aggregate === recordedAggregate.get(name)) ?? firstByKey(seen));
  return { hosts, discovered: discovered.sort((a, b) => a.index - b.index), unreachable };
}

const firstByKey = (seen: readonly DiscoveredNode[]): DiscoveredNode =>
  [...seen].sort((a, b) => hostKey(a.aggregate, a.host).localeCompare(hostKey(b.aggregate, b.host)))[0]!;

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

const AWAY: Partial<Record<HostErrorCode, string>> = {
  unreachable: 'it does not answer',
  timeout: 'it did not answer in time',
  tls: 'its TLS connection failed',
  unauthorized: "it refuses marina's certificate",
};

/**
 * Why a host is away, as a tenant may read it in its bay's status: the kind of failure, never the
 * host's endpoint or raw error (those are in the HostAggregate's status, which admins read).
 */
export function hostAwayReason(error: unknown): string {
  return error instanceof HostError ? (AWAY[error.code] ?? `its API failed (${error.code})`) : 'it could not be observed';
}
