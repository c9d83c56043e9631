import type { ManagerReachability, NodeAvailability, NodeRole, NodeState, WireNode } from './api-types.js';
import { hostOf } from './addresses.js';

/** A swarm node as the bay controller sees it. */
export interface SwarmNode {
  readonly id: string;
  /** Object version: updates must quote it (optimistic concurrency). */
  readonly version: number;
  readonly hostname: string;
  readonly role: NodeRole;
  readonly availability: NodeAvailability;
  readonly state: NodeState;
  /** undefined for workers. */
  readonly managerReachability: ManagerReachability | undefined;
  readonly leader: boolean;
  /** The node's IP address as the swarm knows it. */
  readonly addr: string | undefined;
  /** What dockerd reports: 1e9 per CPU. Inside LXC this is the cpuset, or the host's count without limits. */
  readonly nanoCpus: number;
  readonly memoryBytes: number;
  readonly engineVersion: string | undefined;
}

export function toSwarmNode(node: WireNode): SwarmNode {
  return {
    id: node.ID ?? '',
    version: node.Version?.Index ?? 0,
    hostname: node.Description?.Hostname ?? '',
    role: node.Spec?.Role ?? 'worker',
    availability: node.Spec?.Availability ?? 'active',
    state: node.Status?.State ?? 'unknown',
    managerReachability: node.ManagerStatus?.Reachability,
    leader: node.ManagerStatus?.Leader === true,
    addr: nodeAddress(node),
    nanoCpus: node.Description?.Resources?.NanoCPUs ?? 0,
    memoryBytes: node.Description?.Resources?.MemoryBytes ?? 0,
    engineVersion: node.Description?.Engine?.EngineVersion,
  };
}

/**
 * Status.Addr, except that a manager initialised with ListenAddr 0.0.0.0 reports `0.0.0.0` there
 * (moby/moby#35437); its ManagerStatus.Addr (`ip:2377`) has the real address.
 */
function nodeAddress(node: WireNode): string | undefined {
  const status = node.Status?.Addr;
  if (status && status !== '0.0.0.0') return status;
  const manager = node.ManagerStatus?.Addr;
  return manager ? hostOf(manager) : status || undefined;
}

/** Ready and active: the scheduler may place tasks on it. */
export function isSchedulable(node: SwarmNode): boolean {
  return node.state === 'ready' && node.availability === 'active';
}
