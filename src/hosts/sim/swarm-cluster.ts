import type { SimInstance } from './instance.js';
import { cpuLimit, hostnameOf, memoryLimit } from './instance.js';
import {
  DockerApiError,
  OUT_OF_SEQUENCE,
  SWARM_CA_SUBJECT,
  isoTime,
  issuerPublicKey,
  joinToken,
  newSwarmId,
  passes,
  trustRootPem,
  type Filters,
} from './swarm-wire.js';
import { scheduleTasks, type ServiceRecord, type TaskRecord } from './swarm-tasks.js';

/** What a swarm needs to know about the world its members live in. */
export interface SwarmEnvironment {
  now(): number;
  /** The instance whose dockerd is this swarm node, while it exists. */
  instance(uid: number): SimInstance | undefined;
  dockerdUp(instance: SimInstance): boolean;
  readonly engineVersion: string;
  readonly caRotationMs: number;
  /** Something changed that a save should keep. */
  changed(): void;
}

export type NodeRole = 'manager' | 'worker';
export type NodeAvailability = 'active' | 'pause' | 'drain';

export interface NodeSpecRecord {
  Name?: string;
  Labels: Record<string, string>;
  Role: NodeRole;
  Availability: NodeAvailability;
}

/** One member as the swarm's raft store holds it. */
export interface NodeRecord {
  readonly id: string;
  readonly instanceUid: number;
  readonly createdAt: number;
  updatedAt: number;
  version: number;
  spec: NodeSpecRecord;
  /** In the raft group: a manager (a promoted node joins it once its dockerd is up). */
  raftMember: boolean;
  /** Joined with ListenAddr 0.0.0.0: such a manager reports Status.Addr 0.0.0.0 (moby/moby#35437). */
  readonly listenAll: boolean;
  readonly advertiseAddr: string;
  readonly addr: string;
  /** What the node's dockerd last reported about itself. */
  hostname: string;
  nanoCpus: number;
  memoryBytes: number;
  /** Generation of the root that issued the node's certificate, and of the root it trusts. */
  certGeneration: number;
  trustGeneration: number;
  lastState: 'ready' | 'down';
}

/** A swarm, as plain data (what is saved). */
export interface ClusterData {
  readonly id: string;
  readonly createdAt: number;
  updatedAt: number;
  /** The cluster object's version. */
  version: number;
  /** Raft index: every change of any object takes the next one as its version. */
  index: number;
  spec: Record<string, unknown>;
  rootGeneration: number;
  rotation: { target: number; startedAt: number } | null;
  tokens: { worker: string; manager: string };
  leaderId: string | null;
  readonly defaultAddrPool: string[];
  readonly subnetSize: number;
  readonly dataPathPort: number;
  nodes: NodeRecord[];
  services: ServiceRecord[];
  tasks: TaskRecord[];
  /** The routing mesh's network, made by init as Docker does; `DELETE /networks/ingress` removes it. */
  ingress: boolean;
}

const DEMOTE_LAST = 'rpc error: code = FailedPrecondition desc = attempting to demote the last manager of the swarm';
const LOSES_QUORUM =
  'rpc error: code = FailedPrecondition desc = ' +
  "can't remove member from the raft: this would result in a loss of quorum";

/** The swarm's state and the manager-side API over it. Time-driven changes happen in `settle()`. */
export class SwarmCluster {
  constructor(
    readonly data: ClusterData,
    readonly env: SwarmEnvironment,
  ) {}

  get id(): string {
    return this.data.id;
  }

  nextIndex(): number {
    this.data.index += 1;
    this.env.changed();
    return this.data.index;
  }

  /** Touches an object: next raft index as its version, now as its update time. */
  bump(object: { version: number; updatedAt: number }): void {
    object.version = this.nextIndex();
    object.updatedAt = this.env.now();
  }

  /** By ID, hostname or unique ID prefix, as dockerd resolves `docker node inspect <x>`. */
  findNode(ref: string): NodeRecord | undefined {
    const nodes = this.data.nodes;
    const exact = nodes.find((node) => node.id === ref) ?? nodes.find((node) => node.hostname === ref);
    if (exact) return exact;
    const prefixed = nodes.filter((node) => node.id.startsWith(ref));
    return prefixed.length === 1 ? prefixed[0] : undefined;
  }

  requireNode(ref: string): NodeRecord {
    const node = this.findNode(ref);
    if (!node) throw new DockerApiError(404, `node ${ref} not found`);
    return node;
  }

  /** Up: its instance exists and runs dockerd, which still holds this membership. */
  isUp(node: NodeRecord): boolean {
    const instance = this.env.instance(node.instanceUid);
    return instance !== undefined && instance.swarm?.node === node.id && this.env.dockerdUp(instance);
  }

  hasLeader(): boolean {
    return this.data.leaderId !== null;
  }

  managers(): NodeRecord[] {
    return this.data.nodes.filter((node) => node.raftMember);
  }

  addNode(instance: SimInstance, role: NodeRole, options: { listenAll: boolean; advertiseAddr: string }): NodeRecord {
    const now = this.env.now();
    const generation = this.data.rotation?.target ?? this.data.rootGeneration;
    const node: NodeRecord = {
      id: newSwarmId(),
      instanceUid: instance.uid,
      createdAt: now,
      updatedAt: now,
      version: this.nextIndex(),
      spec: { Labels: {}, Role: role, Availability: 'active' },
      raftMember: role === 'manager',
      listenAll: options.listenAll,
      advertiseAddr: options.advertiseAddr,
      addr: instance.address ?? options.advertiseAddr,
      hostname: hostnameOf(instance),
      nanoCpus: (cpuLimit(instance) ?? 1) * 1e9,
      memoryBytes: memoryLimit(instance) ?? 0,
      certGeneration: generation,
      trustGeneration: this.data.rootGeneration,
      lastState: 'ready',
    };
    this.data.nodes.push(node);
    return node;
  }

  /**
   * Brings the swarm up to date with time and with its members' dockerds: status changes, raft
   * membership of promoted nodes, the leader, a CA rotation's progress, task placement.
   */
  settle(): void {
    for (const node of this.data.nodes) this.settleNode(node);
    this.electLeader();
    this.advanceRotation();
    scheduleTasks(this);
  }

  private settleNode(node: NodeRecord): void {
    const up = this.isUp(node);
    const state = up ? 'ready' : 'down';
    let changed = state !== node.lastState;
    node.lastState = state;
    if (up) {
      const instance = this.env.instance(node.instanceUid)!;
      const hostname = hostnameOf(instance);
      const nanoCpus = (cpuLimit(instance) ?? 1) * 1e9;
      const memoryBytes = memoryLimit(instance) ?? 0;
      changed ||= hostname !== node.hostname || nanoCpus !== node.nanoCpus || memoryBytes !== node.memoryBytes;
      Object.assign(node, { hostname, nanoCpus, memoryBytes });
      if (node.spec.Role === 'manager' && !node.raftMember) {
        node.raftMember = true;
        changed = true;
      }
    }
    if (changed) this.bump(node);
  }

  /** A majority of the raft group must be up; the leader keeps its role while it is. */
  private electLeader(): void {
    const members = this.managers();
    const reachable = members.filter((node) => this.isUp(node)).sort((a, b) => a.createdAt - b.createdAt);
    if (reachable.length < Math.floor(members.length / 2) + 1) {
      this.data.leaderId = null;
      return;
    }
    if (!reachable.some((node) => node.id === this.data.leaderId)) this.data.leaderId = reachable[0]!.id;
  }

  /**
   * Each member renews its certificate from the new root once its dockerd has been up for
   * caRotationMs since the rotation began; when all have, the new root replaces the old one. A member
   * that is down renews nothing, so the rotation waits for it (SwarmKit does the same).
   */
  private advanceRotation(): void {
    const rotation = this.data.rotation;
    const now = this.env.now();
    if (rotation) {
      for (const node of this.data.nodes) {
        if (node.certGeneration === rotation.target || !this.isUp(node)) continue;
        const upSince = this.env.instance(node.instanceUid)!.dockerd.startedAt;
        if (now < Math.max(rotation.startedAt, upSince) + this.env.caRotationMs) continue;
        node.certGeneration = rotation.target;
        this.bump(node);
      }
      if (this.data.nodes.every((node) => node.certGeneration === rotation.target)) {
        this.data.rootGeneration = rotation.target;
        this.data.rotation = null;
        this.bump(this.data);
      }
    }
    if (this.data.rotation) return;
    for (const node of this.data.nodes) {
      if (node.trustGeneration === this.data.rootGeneration || !this.isUp(node)) continue;
      node.trustGeneration = this.data.rootGeneration;
      this.bump(node);
    }
  }

  /** `GET /swarm` (with the join tokens) or, without them, `/info`'s Cluster. */
  inspect(withTokens: boolean): Record<string, unknown> {
    const d = this.data;
    return {
      ID: d.id,
      Version: { Index: d.version },
      CreatedAt: isoTime(d.createdAt),
      UpdatedAt: isoTime(d.updatedAt),
      Spec: d.spec,
      // During a rotation the issuer is already the new root's: members that renewed match it.
      TLSInfo: this.tlsInfo(d.rootGeneration, d.rotation?.target ?? d.rootGeneration),
      RootRotationInProgress: d.rotation !== null,
      DefaultAddrPool: d.defaultAddrPool,
      SubnetSize: d.subnetSize,
      DataPathPort: d.dataPathPort,
      ...(withTokens ? { JoinTokens: { Worker: d.tokens.worker, Manager: d.tokens.manager } } : {}),
    };
  }

  private tlsInfo(trustGeneration: number, certGeneration: number): Record<string, string> {
    return {
      TrustRoot: trustRootPem(this.id, trustGeneration),
      CertIssuerSubject: SWARM_CA_SUBJECT,
      CertIssuerPublicKey: issuerPublicKey(this.id, certGeneration),
    };
  }

  /** `POST /swarm/update`: the whole spec, at the version last read. */
  update(version: number, spec: Record<string, unknown>, flags: { worker: boolean; manager: boolean }): void {
    if (version !== this.data.version) throw new DockerApiError(500, OUT_OF_SEQUENCE);
    if (forceRotate(spec) !== forceRotate(this.data.spec)) this.startRotation();
    const generation = this.data.rotation?.target ?? this.data.rootGeneration;
    if (flags.worker) this.data.tokens.worker = joinToken(this.id, generation);
    if (flags.manager) this.data.tokens.manager = joinToken(this.id, generation);
    this.data.spec = spec;
    this.bump(this.data);
  }

  /** A new root; join tokens name it at once, so nodes joining from now on trust it. */
  private startRotation(): void {
    const target = (this.data.rotation?.target ?? this.data.rootGeneration) + 1;
    this.data.rotation = { target, startedAt: this.env.now() };
    this.data.tokens = { worker: joinToken(this.id, target), manager: joinToken(this.id, target) };
  }

  nodeJson(node: NodeRecord): Record<string, unknown> {
    const up = this.isUp(node);
    return {
      ID: node.id,
      Version: { Index: node.version },
      CreatedAt: isoTime(node.createdAt),
      UpdatedAt: isoTime(node.updatedAt),
      Spec: node.spec,
      Description: {
        Hostname: node.hostname,
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: node.nanoCpus, MemoryBytes: node.memoryBytes },
        Engine: { EngineVersion: this.env.engineVersion },
        TLSInfo: this.tlsInfo(node.trustGeneration, node.certGeneration),
      },
      Status: {
        State: up ? 'ready' : 'down',
        ...(up ? {} : { Message: 'heartbeat failure' }),
        Addr: node.raftMember && node.listenAll ? '0.0.0.0' : node.addr,
      },
      ...(node.raftMember ? { ManagerStatus: this.managerStatus(node, up) } : {}),
    };
  }

  private managerStatus(node: NodeRecord, up: boolean): Record<string, unknown> {
    return {
      ...(node.id === this.data.leaderId ? { Leader: true } : {}),
      Reachability: up ? 'reachable' : 'unreachable',
      Addr: `${node.advertiseAddr}:2377`,
    };
  }

  listNodes(filters: Filters): Record<string, unknown>[] {
    return this.data.nodes
      .filter((node) => passes(filters, 'id', (id) => node.id.startsWith(id)))
      .filter((node) => passes(filters, 'name', (name) => node.hostname === name || node.spec.Name === name))
      .filter((node) => passes(filters, 'role', (role) => node.spec.Role === role))
      .map((node) => this.nodeJson(node));
  }

  /** `POST /nodes/{id}/update`: the whole spec, at the version last read. */
  updateNode(ref: string, version: number, spec: Partial<NodeSpecRecord>): void {
    const node = this.requireNode(ref);
    if (version !== node.version) throw new DockerApiError(500, OUT_OF_SEQUENCE);
    const wanted = validNodeSpec(spec);
    if (node.spec.Role === 'manager' && wanted.Role === 'worker') this.demote(node);
    node.spec = wanted;
    this.bump(node);
    this.settle();
  }

  private demote(node: NodeRecord): void {
    const managers = this.data.nodes.filter((n) => n.spec.Role === 'manager').length;
    if (managers <= 1) throw new DockerApiError(400, DEMOTE_LAST);
    if (node.raftMember) {
      const members = this.managers().length - 1;
      const reachable = this.managers().filter((n) => n !== node && this.isUp(n)).length;
      if (reachable < Math.floor(members / 2) + 1) throw new DockerApiError(400, LOSES_QUORUM);
    }
    node.raftMember = false;
  }

  /** `DELETE /nodes/{id}`: returns the removed node, whose tasks are orphaned. */
  removeNode(ref: string, force: boolean): NodeRecord {
    const node = this.requireNode(ref);
    if (node.spec.Role === 'manager' || node.raftMember) {
      throw new DockerApiError(
        400,
        `rpc error: code = FailedPrecondition desc = node ${node.id} is a cluster manager ` +
          'and is a member of the raft ' +
          'cluster. It must be demoted to worker before removal',
      );
    }
    if (!force && this.isUp(node)) {
      throw new DockerApiError(
        400,
        `rpc error: code = FailedPrecondition desc = node ${node.id} is not down and can't be removed`,
      );
    }
    this.data.nodes = this.data.nodes.filter((candidate) => candidate !== node);
    for (const task of this.data.tasks.filter((t) => t.nodeId === node.id && t.state !== 'shutdown')) {
      Object.assign(task, { desired: 'shutdown', state: 'orphaned' });
      this.bump(task);
    }
    this.nextIndex();
    this.settle();
    return node;
  }
}

function forceRotate(spec: Record<string, unknown>): number {
  const caConfig = spec.CAConfig as { ForceRotate?: unknown } | undefined;
  return typeof caConfig?.ForceRotate === 'number' ? caConfig.ForceRotate : 0;
}

function validNodeSpec(spec: Partial<NodeSpecRecord>): NodeSpecRecord {
  const role = spec.Role ?? 'worker';
  const availability = spec.Availability ?? 'active';
  if (role !== 'manager' && role !== 'worker') throw new DockerApiError(400, `invalid role ${String(role)}`);
  if (!['active', 'pause', 'drain'].includes(availability)) {
    throw new DockerApiError(400, `invalid availability ${String(availability)}`);
  }
  return {
    ...(spec.Name ? { Name: spec.Name } : {}),
    Labels: { ...spec.Labels },
    Role: role,
    Availability: availability,
  };
}
