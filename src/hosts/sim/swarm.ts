import type { SimInstance } from './instance.js';
import { SwarmCluster, type ClusterData, type NodeRole, type SwarmEnvironment } from './swarm-cluster.js';
import {
  ALREADY_IN_SWARM,
  DockerApiError,
  NOT_IN_SWARM_MANAGER,
  NOT_PART_OF_SWARM,
  NO_LEADER,
  WORKER_NOT_MANAGER,
  joinToken,
  newSwarmId,
  rootDigest,
  tokenDigest,
} from './swarm-wire.js';

/** The parts of `POST /swarm/init` and `POST /swarm/join` bodies the simulation reads. */
export interface SwarmInitBody {
  readonly ListenAddr?: string;
  readonly AdvertiseAddr?: string;
  readonly DefaultAddrPool?: string[];
  readonly SubnetSize?: number;
  readonly DataPathPort?: number;
  readonly Spec?: Record<string, unknown>;
}

export interface SwarmJoinBody {
  readonly ListenAddr?: string;
  readonly AdvertiseAddr?: string;
  readonly RemoteAddrs?: string[];
  readonly JoinToken?: string;
}

const SWARM_PORT = 2377;

/**
 * Every swarm of the world, and each dockerd's side of its membership: init, join, leave, the
 * `/info` view, and the gate in front of manager-only calls (a manager of a swarm with a leader).
 */
export class Swarms {
  private readonly clusters = new Map<string, SwarmCluster>();

  constructor(private readonly env: SwarmEnvironment) {}

  get size(): number {
    return this.clusters.size;
  }

  /** The swarm this dockerd belongs to, brought up to date. */
  clusterOf(instance: SimInstance): SwarmCluster | undefined {
    const cluster = instance.swarm && this.clusters.get(instance.swarm.cluster);
    cluster?.settle();
    return cluster;
  }

  /** What a manager-only call runs against; dockerd's own refusals otherwise. */
  managedBy(instance: SimInstance): SwarmCluster {
    const cluster = this.clusterOf(instance);
    const node = cluster?.findNode(instance.swarm?.node ?? '');
    if (!cluster || !node) throw new DockerApiError(503, NOT_IN_SWARM_MANAGER);
    if (!node.raftMember) throw new DockerApiError(503, WORKER_NOT_MANAGER);
    if (!cluster.hasLeader()) throw new DockerApiError(500, NO_LEADER);
    return cluster;
  }

  /** `GET /info` → Swarm. */
  localInfo(instance: SimInstance): Record<string, unknown> {
    const cluster = this.clusterOf(instance);
    const node = cluster?.findNode(instance.swarm?.node ?? '');
    if (!cluster || !node) {
      return {
        NodeID: '',
        NodeAddr: '',
        LocalNodeState: 'inactive',
        ControlAvailable: false,
        Error: '',
        RemoteManagers: null,
      };
    }
    const managers = cluster.managers();
    return {
      NodeID: node.id,
      NodeAddr: node.advertiseAddr,
      LocalNodeState: 'active',
      ControlAvailable: node.raftMember,
      Error: '',
      RemoteManagers: managers.map((m) => ({ NodeID: m.id, Addr: `${m.advertiseAddr}:${SWARM_PORT}` })),
      ...(node.raftMember
        ? { Nodes: cluster.data.nodes.length, Managers: managers.length, Cluster: cluster.inspect(false) }
        : {}),
    };
  }

  /** `POST /swarm/init`: a new swarm with this dockerd as its leader. Returns the node ID. */
  init(instance: SimInstance, body: SwarmInitBody): string {
    if (this.clusterOf(instance)) throw new DockerApiError(503, ALREADY_IN_SWARM);
    const now = this.env.now();
    const id = newSwarmId();
    const data: ClusterData = {
      id,
      createdAt: now,
      updatedAt: now,
      version: 1,
      index: 1,
      spec: { ...DEFAULT_SWARM_SPEC, ...body.Spec },
      rootGeneration: 0,
      rotation: null,
      tokens: { worker: joinToken(id, 0), manager: joinToken(id, 0) },
      leaderId: null,
      defaultAddrPool: body.DefaultAddrPool ?? ['10.0.0.0/8'],
      subnetSize: body.SubnetSize ?? 24,
      dataPathPort: body.DataPathPort ?? 4789,
      nodes: [],
      services: [],
      tasks: [],
      ingress: true,
    };
    const cluster = new SwarmCluster(data, this.env);
    this.clusters.set(id, cluster);
    return this.admit(cluster, instance, 'manager', body);
  }

  /**
   * `POST /swarm/join`: through a manager at one of RemoteAddrs, with a token of its swarm that
   * decides the role. A simplification: a join that cannot reach a manager fails at once and leaves
   * the node inactive (dockerd keeps trying in the background, in the `pending` state).
   */
  join(instance: SimInstance, body: SwarmJoinBody, byAddress: (address: string) => SimInstance | undefined): void {
    if (this.clusterOf(instance)) throw new DockerApiError(503, ALREADY_IN_SWARM);
    const token = body.JoinToken ?? '';
    const digest = tokenDigest(token);
    if (digest === undefined) throw new DockerApiError(400, 'invalid join token');
    const remotes = body.RemoteAddrs ?? [];
    if (remotes.length === 0) throw new DockerApiError(400, 'at least 1 RemoteAddr is required to join');
    const cluster = this.reachableSwarm(remotes, byAddress);
    if (!cluster.hasLeader()) throw new DockerApiError(500, NO_LEADER);
    this.admit(cluster, instance, roleFor(cluster, token, digest), body);
    cluster.settle();
  }

  private reachableSwarm(
    remotes: readonly string[],
    byAddress: (address: string) => SimInstance | undefined,
  ): SwarmCluster {
    for (const remote of remotes) {
      const { host, port } = splitAddress(remote);
      const manager = port === SWARM_PORT ? byAddress(host) : undefined;
      const cluster = manager && this.env.dockerdUp(manager) ? this.clusterOf(manager) : undefined;
      if (cluster?.findNode(manager!.swarm!.node)?.raftMember) return cluster;
    }
    const first = splitAddress(remotes[0]!);
    throw new DockerApiError(
      503,
      'rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing dial tcp ' +
        `${first.host}:${first.port}: connect: connection refused"`,
    );
  }

  private admit(
    cluster: SwarmCluster,
    instance: SimInstance,
    role: NodeRole,
    body: SwarmInitBody | SwarmJoinBody,
  ): string {
    const listen = splitAddress(body.ListenAddr ?? `0.0.0.0:${SWARM_PORT}`).host;
    const advertise = body.AdvertiseAddr ? splitAddress(body.AdvertiseAddr).host : (instance.address ?? listen);
    const node = cluster.addNode(instance, role, { listenAll: listen === '0.0.0.0', advertiseAddr: advertise });
    instance.swarm = { cluster: cluster.id, node: node.id };
    cluster.settle();
    return node.id;
  }

  /** `POST /swarm/leave`: the swarm keeps the node's record (down) until a manager removes it. */
  leave(instance: SimInstance, force: boolean): void {
    const cluster = this.clusterOf(instance);
    const node = cluster?.findNode(instance.swarm?.node ?? '');
    if (!cluster || !node) throw new DockerApiError(503, NOT_PART_OF_SWARM);
    if (node.raftMember && !force) {
      const problem = leaveProblem(cluster, node.id);
      if (problem) throw new DockerApiError(503, problem);
    }
    instance.swarm = undefined;
    cluster.settle();
    this.dropIfAbandoned(cluster);
  }

  /** A node removed from its swarm by a manager: its dockerd learns it and leaves (as moby does). */
  forgetMember(instanceUid: number, nodeId: string): void {
    const instance = this.env.instance(instanceUid);
    if (instance?.swarm?.node === nodeId) instance.swarm = undefined;
  }

  /** After an instance is deleted: a swarm none of whose members exists any more is gone. */
  instanceGone(instance: SimInstance): void {
    const cluster = instance.swarm && this.clusters.get(instance.swarm.cluster);
    if (cluster) this.dropIfAbandoned(cluster);
  }

  private dropIfAbandoned(cluster: SwarmCluster): void {
    const alive = cluster.data.nodes.some((node) => this.env.instance(node.instanceUid)?.swarm?.cluster === cluster.id);
    if (!alive) this.clusters.delete(cluster.id);
  }

  toJSON(): ClusterData[] {
    return [...this.clusters.values()].map((cluster) => cluster.data);
  }

  load(data: readonly ClusterData[]): void {
    this.clusters.clear();
    for (const cluster of data) this.clusters.set(cluster.id, new SwarmCluster(cluster, this.env));
  }
}

/** What SwarmKit sets when `docker swarm init` gives no spec. */
const DEFAULT_SWARM_SPEC: Readonly<Record<string, unknown>> = {
  Name: 'default',
  Labels: {},
  Orchestration: { TaskHistoryRetentionLimit: 5 },
  Raft: {
    SnapshotInterval: 10000,
    KeepOldSnapshots: 0,
    LogEntriesForSlowFollowers: 500,
    ElectionTick: 10,
    HeartbeatTick: 1,
  },
  Dispatcher: { HeartbeatPeriod: 5_000_000_000 },
  CAConfig: { NodeCertExpiry: 7_776_000_000_000_000 },
  TaskDefaults: {},
  EncryptionConfig: { AutoLockManagers: false },
};

function roleFor(cluster: SwarmCluster, token: string, digest: string): NodeRole {
  const { worker, manager } = cluster.data.tokens;
  if (token === worker) return 'worker';
  if (token === manager) return 'manager';
  const expected = rootDigest(cluster.id, cluster.data.rotation?.target ?? cluster.data.rootGeneration);
  if (digest !== expected) {
    throw new DockerApiError(
      500,
      `error while validating Root CA Certificate: remote CA does not match fingerprint. Expected: ${digest}`,
    );
  }
  throw new DockerApiError(
    400,
    'rpc error: code = InvalidArgument desc = A valid join token is necessary to join this cluster',
  );
}

/** moby refuses a manager's leave without --force only when it costs the swarm its quorum or its state. */
function leaveProblem(cluster: SwarmCluster, nodeId: string): string | undefined {
  const managers = cluster.managers();
  const reachable = managers.filter((m) => m.id !== nodeId && cluster.isUp(m)).length;
  const intro = 'You are attempting to leave the swarm on a node that is participating as a manager. ';
  const suffix = 'Use `--force` to suppress this message.';
  if (managers.length === 1) {
    return `${intro}Removing the last manager erases all current state of the swarm. ${suffix}`;
  }
  if (reachable < Math.floor(managers.length / 2) + 1) {
    return (
      `${intro}Removing this node leaves ${reachable} managers out of a possible ${managers.length}. ` +
      'Without a Raft quorum your swarm will be inaccessible. ' +
      'The only way to restore a swarm that has lost consensus ' +
      `is to reinitialize it with \`--force-new-cluster\`. ${suffix}`
    );
  }
  return undefined;
}

/** `10.0.0.5:2377` → host and port; a bare address gets the swarm port. */
function splitAddress(address: string): { host: string; port: number } {
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(address);
  return match ? { host: match[1]!, port: Number(match[2]) } : { host: address, port: SWARM_PORT };
}
