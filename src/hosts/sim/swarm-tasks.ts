import type { NodeRecord, SwarmCluster } from './swarm-cluster.js';
import { DockerApiError, isoTime, newSwarmId, passes, type Filters } from './swarm-wire.js';

/**
 * Services and their tasks, placed the way SwarmKit's scheduler does in the cases marina cares
 * about: a task needs a ready, active node with room for its reservations (capacity is what each
 * node reports); replicas spread over nodes; a task that fits nowhere stays pending with SwarmKit's
 * explanation; a task on a node that goes down or is drained is replaced on another node.
 */

export interface ServiceSpec {
  readonly Name?: string;
  readonly Labels?: Record<string, string>;
  readonly TaskTemplate?: {
    readonly ContainerSpec?: { readonly Image?: string };
    readonly Resources?: { readonly Reservations?: { readonly NanoCPUs?: number; readonly MemoryBytes?: number } };
  };
  readonly Mode?: { readonly Replicated?: { readonly Replicas?: number }; readonly Global?: object };
}

export interface ServiceRecord {
  readonly id: string;
  readonly spec: ServiceSpec;
  readonly createdAt: number;
  updatedAt: number;
  version: number;
}

export type TaskState = 'pending' | 'running' | 'shutdown' | 'orphaned';

export interface TaskRecord {
  readonly id: string;
  readonly serviceId: string;
  /** Replicated services: the replica's number; global services: 0 (one per node). */
  readonly slot: number;
  nodeId: string | null;
  desired: 'running' | 'shutdown';
  state: TaskState;
  message: string;
  err: string | null;
  readonly createdAt: number;
  updatedAt: number;
  version: number;
}

/** SwarmKit keeps this many tasks per slot (TaskHistoryRetentionLimit's default). */
const HISTORY_PER_SLOT = 5;

export function createService(cluster: SwarmCluster, spec: ServiceSpec): ServiceRecord {
  if (!spec.TaskTemplate?.ContainerSpec?.Image) {
    throw new DockerApiError(
      400,
      'rpc error: code = InvalidArgument desc = ContainerSpec: image reference must be provided',
    );
  }
  const name = spec.Name ?? newSwarmId().slice(0, 12);
  if (cluster.data.services.some((service) => service.spec.Name === name)) {
    throw new DockerApiError(409, 'rpc error: code = AlreadyExists desc = name conflicts with an existing object');
  }
  const now = cluster.env.now();
  const service: ServiceRecord = {
    id: newSwarmId(),
    spec: { ...spec, Name: name },
    createdAt: now,
    updatedAt: now,
    version: cluster.nextIndex(),
  };
  cluster.data.services.push(service);
  scheduleTasks(cluster);
  return service;
}

/** By ID, name or unique ID prefix. */
export function findService(cluster: SwarmCluster, ref: string): ServiceRecord {
  const services = cluster.data.services;
  const prefixed = services.filter((s) => s.id.startsWith(ref));
  const found =
    services.find((s) => s.id === ref || s.spec.Name === ref) ?? (prefixed.length === 1 ? prefixed[0] : undefined);
  if (!found) throw new DockerApiError(404, `service ${ref} not found`);
  return found;
}

export function removeService(cluster: SwarmCluster, ref: string): void {
  const service = findService(cluster, ref);
  cluster.data.services = cluster.data.services.filter((s) => s !== service);
  cluster.data.tasks = cluster.data.tasks.filter((task) => task.serviceId !== service.id);
  cluster.nextIndex();
  scheduleTasks(cluster);
}

export function serviceJson(service: ServiceRecord): Record<string, unknown> {
  return {
    ID: service.id,
    Version: { Index: service.version },
    CreatedAt: isoTime(service.createdAt),
    UpdatedAt: isoTime(service.updatedAt),
    Spec: service.spec,
    Endpoint: { Spec: {} },
  };
}

export function listServices(cluster: SwarmCluster, filters: Filters): Record<string, unknown>[] {
  return cluster.data.services
    .filter((s) => passes(filters, 'id', (id) => s.id.startsWith(id)))
    .filter((s) => passes(filters, 'name', (name) => (s.spec.Name ?? '').startsWith(name)))
    .map(serviceJson);
}

export function listTasks(cluster: SwarmCluster, filters: Filters): Record<string, unknown>[] {
  const serviceName = (id: string): string | undefined => cluster.data.services.find((s) => s.id === id)?.spec.Name;
  const hostname = (id: string | null): string | undefined => cluster.data.nodes.find((n) => n.id === id)?.hostname;
  return cluster.data.tasks
    .filter((t) => passes(filters, 'id', (id) => t.id.startsWith(id)))
    .filter((t) => passes(filters, 'service', (s) => t.serviceId === s || serviceName(t.serviceId) === s))
    .filter((t) => passes(filters, 'node', (n) => t.nodeId === n || hostname(t.nodeId) === n))
    .filter((t) => passes(filters, 'desired-state', (state) => t.desired === state))
    .map((task) => taskJson(cluster, task));
}

function taskJson(cluster: SwarmCluster, task: TaskRecord): Record<string, unknown> {
  const service = cluster.data.services.find((s) => s.id === task.serviceId);
  return {
    ID: task.id,
    Version: { Index: task.version },
    CreatedAt: isoTime(task.createdAt),
    UpdatedAt: isoTime(task.updatedAt),
    Labels: {},
    Spec: service?.spec.TaskTemplate ?? {},
    ServiceID: task.serviceId,
    ...(task.slot > 0 ? { Slot: task.slot } : {}),
    ...(task.nodeId ? { NodeID: task.nodeId } : {}),
    Status: {
      Timestamp: isoTime(task.updatedAt),
      State: task.state,
      Message: task.message,
      ...(task.err ? { Err: task.err } : {}),
    },
    DesiredState: task.desired,
  };
}

/** One pass of the orchestrator and the scheduler over every service. */
export function scheduleTasks(cluster: SwarmCluster): void {
  if (cluster.data.services.length === 0 && cluster.data.tasks.length === 0) return;
  const ready = new Map(cluster.data.nodes.map((node) => [node.id, cluster.isUp(node)]));
  for (const task of cluster.data.tasks) settleTask(cluster, task, ready);
  for (const service of cluster.data.services) {
    for (const slot of wantedSlots(cluster, service, ready)) {
      const current = runningTask(cluster, service, slot.slot, slot.nodeId) ?? newTask(cluster, service, slot);
      if (current.state === 'pending') place(cluster, service, current, ready, slot.nodeId);
    }
  }
  pruneHistory(cluster);
}

/** A task whose node is gone, down or drained is shut down (or known to be, once its node reports). */
function settleTask(cluster: SwarmCluster, task: TaskRecord, ready: ReadonlyMap<string, boolean>): void {
  const node = task.nodeId === null ? undefined : cluster.data.nodes.find((n) => n.id === task.nodeId);
  const up = node !== undefined && ready.get(node.id) === true;
  if (task.desired === 'running' && task.state === 'running' && (!up || node.spec.Availability === 'drain')) {
    task.desired = 'shutdown';
    if (up) task.state = 'shutdown';
    cluster.bump(task);
  } else if (task.desired === 'shutdown' && task.state === 'running' && up) {
    task.state = 'shutdown';
    cluster.bump(task);
  }
}

interface Slot {
  readonly slot: number;
  /** Global services: the node the slot belongs to. */
  readonly nodeId?: string;
}

function wantedSlots(cluster: SwarmCluster, service: ServiceRecord, ready: ReadonlyMap<string, boolean>): Slot[] {
  if (service.spec.Mode?.Global !== undefined) {
    return cluster.data.nodes
      .filter((n) => ready.get(n.id) && n.spec.Availability === 'active')
      .map((n) => ({ slot: 0, nodeId: n.id }));
  }
  const replicas = service.spec.Mode?.Replicated?.Replicas ?? 1;
  return Array.from({ length: replicas }, (_, i) => ({ slot: i + 1 }));
}

function runningTask(
  cluster: SwarmCluster,
  service: ServiceRecord,
  slot: number,
  nodeId: string | undefined,
): TaskRecord | undefined {
  return cluster.data.tasks.find(
    (t) =>
      t.serviceId === service.id &&
      t.slot === slot &&
      t.desired === 'running' &&
      (nodeId === undefined || t.nodeId === nodeId),
  );
}

function newTask(cluster: SwarmCluster, service: ServiceRecord, slot: Slot): TaskRecord {
  const now = cluster.env.now();
  const task: TaskRecord = {
    id: newSwarmId(),
    serviceId: service.id,
    slot: slot.slot,
    nodeId: null,
    desired: 'running',
    state: 'pending',
    message: 'pending task scheduling',
    err: null,
    createdAt: now,
    updatedAt: now,
    version: cluster.nextIndex(),
  };
  cluster.data.tasks.push(task);
  return task;
}

function place(
  cluster: SwarmCluster,
  service: ServiceRecord,
  task: TaskRecord,
  ready: ReadonlyMap<string, boolean>,
  only?: string,
): void {
  const candidates = cluster.data.nodes.filter((n) => only === undefined || n.id === only);
  const available = candidates.filter((n) => ready.get(n.id) && n.spec.Availability === 'active');
  const wanted = reservationOf(service);
  const fitting = available.filter((n) => fits(cluster, n, wanted));
  const chosen = fitting.sort((a, b) => spreadOrder(cluster, service, a, b))[0];
  if (chosen) {
    Object.assign(task, { nodeId: chosen.id, state: 'running', message: 'started', err: null });
    cluster.bump(task);
    return;
  }
  const err = noSuitableNode(candidates.length - available.length, available.length);
  if (task.err !== err) {
    task.err = err;
    cluster.bump(task);
  }
}

interface Reservation {
  readonly nanoCpus: number;
  readonly memoryBytes: number;
}

function reservationOf(service: ServiceRecord): Reservation {
  const reservations = service.spec.TaskTemplate?.Resources?.Reservations;
  return { nanoCpus: reservations?.NanoCPUs ?? 0, memoryBytes: reservations?.MemoryBytes ?? 0 };
}

function fits(cluster: SwarmCluster, node: NodeRecord, wanted: Reservation): boolean {
  let nanoCpus = 0;
  let memoryBytes = 0;
  for (const task of cluster.data.tasks) {
    if (task.nodeId !== node.id || task.desired !== 'running' || task.state !== 'running') continue;
    const service = cluster.data.services.find((s) => s.id === task.serviceId);
    const reserved = service ? reservationOf(service) : { nanoCpus: 0, memoryBytes: 0 };
    nanoCpus += reserved.nanoCpus;
    memoryBytes += reserved.memoryBytes;
  }
  return nanoCpus + wanted.nanoCpus <= node.nanoCpus && memoryBytes + wanted.memoryBytes <= node.memoryBytes;
}

/** Fewest tasks of the service first, then fewest tasks at all, then the oldest node. */
function spreadOrder(cluster: SwarmCluster, service: ServiceRecord, a: NodeRecord, b: NodeRecord): number {
  const count = (node: NodeRecord, serviceId?: string): number =>
    cluster.data.tasks.filter(
      (t) =>
        t.nodeId === node.id &&
        t.desired === 'running' &&
        t.state === 'running' &&
        (!serviceId || t.serviceId === serviceId),
    ).length;
  return count(a, service.id) - count(b, service.id) || count(a) - count(b) || a.createdAt - b.createdAt;
}

/** SwarmKit's words: the failing filters in pipeline order, each with the nodes it ruled out. */
function noSuitableNode(notAvailable: number, insufficient: number): string {
  const plural = (n: number): string => (n === 1 ? '1 node' : `${n} nodes`);
  const reasons = [
    ...(notAvailable > 0 ? [`${plural(notAvailable)} not available for new tasks`] : []),
    ...(insufficient > 0 ? [`insufficient resources on ${plural(insufficient)}`] : []),
  ];
  return reasons.length === 0 ? 'no suitable node' : `no suitable node (${reasons.join('; ')})`;
}

/** Only the last few finished tasks of a slot are kept. */
function pruneHistory(cluster: SwarmCluster): void {
  const finished = new Map<string, TaskRecord[]>();
  for (const task of cluster.data.tasks) {
    if (task.desired === 'running') continue;
    const key = `${task.serviceId}/${task.slot}/${task.slot === 0 ? task.nodeId : ''}`;
    finished.set(key, [...(finished.get(key) ?? []), task]);
  }
  const dropped = new Set<TaskRecord>();
  for (const tasks of finished.values()) {
    for (const task of tasks.slice(0, Math.max(0, tasks.length - HISTORY_PER_SLOT + 1))) dropped.add(task);
  }
  if (dropped.size > 0) cluster.data.tasks = cluster.data.tasks.filter((task) => !dropped.has(task));
}
