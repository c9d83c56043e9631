import type { Bay, HostAggregate } from '../../src/api/types.generated.js';
import type { HostCapacity, NodeInfo, NodeOwnership } from '../../src/hosts/index.js';

/**
 * Test objects from small builders, shared by every unit test (kube-rs' `Document::test()`): a test
 * states only what it is about, and a new required field is added here once.
 */

export function testBay(over: { name?: string; namespace?: string; uid?: string; spec?: Partial<Bay['spec']>; status?: Bay['status'] } = {}): Bay {
  return {
    apiVersion: 'marina.dev/v1alpha1',
    kind: 'Bay',
    metadata: { name: over.name ?? 'web', namespace: over.namespace ?? 'team-a', uid: over.uid ?? 'bay-uid-1', generation: 1 },
    spec: {
      coe: 'swarm',
      upgradePolicy: 'Manual',
      managers: 1,
      nodes: 3,
      flavor: { cpu: 1, memory: '512Mi', disk: '2Gi' },
      tls: { certificateValidity: '2160h', renewBefore: '720h', caOverlap: '24h' },
      deletionPolicy: 'Delete',
      ...over.spec,
    },
    ...(over.status ? { status: over.status } : {}),
  };
}

export function testAggregate(name = 'metal', over: Partial<HostAggregate['spec']> = {}, status?: HostAggregate['status']): HostAggregate {
  return {
    apiVersion: 'marina.dev/v1alpha1',
    kind: 'HostAggregate',
    metadata: { name, uid: `agg-${name}`, generation: 1 },
    spec: {
      provider: 'lxd',
      metadata: { suite: 'unit' },
      hosts: [{ name: 'h1', endpoint: `unix:///run/${name}/h1.socket`, cordoned: false, evacuate: false }],
      network: { mode: 'shared', bridge: 'lxdbr0', subnetPool: '10.240.0.0/16', baySubnetPrefixLength: 24 },
      storagePool: 'default',
      image: 'marina-node/bookworm',
      overcommit: { cpu: 4, memory: 1 },
      ...over,
    },
    ...(status ? { status } : {}),
  };
}

export function testNode(name: string, over: Partial<NodeInfo> & { owner?: Partial<NodeOwnership> } = {}): NodeInfo {
  const { owner, ...rest } = over;
  return {
    name,
    host: 'h1',
    status: 'running',
    ownership: { bayUid: 'bay-uid-1', namespace: 'team-a', bayName: 'web', index: 0, role: 'manager', ...owner },
    ipv4Address: '10.0.0.10',
    limits: { cpu: 1, memoryBytes: 512 * 2 ** 20, diskBytes: 2 * 2 ** 30, processes: 10_000 },
    createdAt: undefined,
    imageFingerprint: 'f'.repeat(64),
    kernelModules: [],
    ...rest,
  };
}

export function testCapacity(over: { cpu?: number; memoryBytes?: number; allocatedCpu?: number } = {}): HostCapacity {
  const none = { cpu: over.allocatedCpu ?? 0, memoryBytes: 0, diskBytes: 0, instances: 0 };
  return {
    host: 'h1',
    total: { cpu: over.cpu ?? 8, memoryBytes: over.memoryBytes ?? 32 * 2 ** 30, diskBytes: undefined },
    allocated: { ...none, unlimitedInstances: 0 },
    reservedByMarina: none,
  };
}
