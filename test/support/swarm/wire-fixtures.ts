import type { WireNode, WireTask } from '../../../src/swarm/index.js';
import { toSwarmNode, toSwarmTask, type SwarmNode, type SwarmTask } from '../../../src/swarm/index.js';

/**
 * Docker Engine API answers, shaped like dockerd 20.10's (`GET /nodes`, `GET /tasks`), for the tests
 * of the pure parts of src/swarm.
 */

export const GIB = 1024 ** 3;
export const CPU = 1e9;

export interface NodeFixture {
  id: string;
  hostname?: string;
  role?: 'manager' | 'worker';
  availability?: 'active' | 'drain' | 'pause';
  state?: 'ready' | 'down' | 'unknown' | 'disconnected';
  reachability?: 'reachable' | 'unreachable' | 'unknown';
  leader?: boolean;
  addr?: string;
  cpus?: number;
  memoryGiB?: number;
}

export function wireNode(fixture: NodeFixture): WireNode {
  const role = fixture.role ?? 'worker';
  const addr = fixture.addr ?? '10.213.71.10';
  return {
    ID: fixture.id,
    Version: { Index: 42 },
    Spec: { Labels: {}, Role: role, Availability: fixture.availability ?? 'active' },
    Description: {
      Hostname: fixture.hostname ?? fixture.id,
      Resources: { NanoCPUs: (fixture.cpus ?? 2) * CPU, MemoryBytes: (fixture.memoryGiB ?? 4) * GIB },
      Engine: { EngineVersion: '20.10.24+dfsg1' },
      TLSInfo: { TrustRoot: 'root-1', CertIssuerSubject: 'subject-1', CertIssuerPublicKey: 'key-1' },
    },
    Status: { State: fixture.state ?? 'ready', Addr: addr },
    ...(role === 'manager'
      ? { ManagerStatus: { Leader: fixture.leader ?? false, Reachability: fixture.reachability ?? 'reachable', Addr: `${addr}:2377` } }
      : {}),
  };
}

export function node(fixture: NodeFixture): SwarmNode {
  return toSwarmNode(wireNode(fixture));
}

export interface TaskFixture {
  id?: string;
  nodeId?: string;
  state?: string;
  desiredState?: string;
  cpus?: number;
  memoryGiB?: number;
}

let taskCounter = 0;

export function wireTask(fixture: TaskFixture): WireTask {
  const reservations = {
    ...(fixture.cpus === undefined ? {} : { NanoCPUs: fixture.cpus * CPU }),
    ...(fixture.memoryGiB === undefined ? {} : { MemoryBytes: fixture.memoryGiB * GIB }),
  };
  return {
    ID: fixture.id ?? `task-${++taskCounter}`,
    ServiceID: 'service-1',
    ...(fixture.nodeId === undefined ? {} : { NodeID: fixture.nodeId }),
    DesiredState: fixture.desiredState ?? 'running',
    Spec: { Resources: { Reservations: reservations, Limits: { NanoCPUs: 8 * CPU, MemoryBytes: 64 * GIB } } },
    Status: { State: fixture.state ?? 'running' },
  };
}

export function task(fixture: TaskFixture): SwarmTask {
  return toSwarmTask(wireTask(fixture));
}
