import { describe, expect, it } from 'vitest';
import { parseBytes } from '../../../src/api/quantity.js';
import {
  describeUnschedulable,
  describeUnschedulableForTenant,
  flavorFitsNowhere,
  scheduleNodes,
  selectorMatches,
  type BayFootprint,
  type HostCandidate,
  type NodeToPlace,
  type PlacementRequest,
} from '../../../src/scheduler/index.js';

const GiB = 2 ** 30;

function host(name: string, over: Partial<HostCandidate> = {}): HostCandidate {
  return {
    aggregate: 'metal',
    host: name,
    metadata: { flavor: 'container', zone: 'dfw1' },
    ready: true,
    cordoned: false,
    capacity: { cpu: 8, memoryBytes: 32 * GiB },
    allocated: { cpu: 0, memoryBytes: 0 },
    overcommit: { cpu: 4, memory: 1 },
    ...over,
  };
}

const request: PlacementRequest = {
  namespace: 'team-a',
  namespaceLabels: { tenant: 'true' },
  flavor: { cpu: 2, memoryBytes: 4 * GiB, diskBytes: 20 * GiB },
};

const empty: BayFootprint = { nodesByHost: new Map(), managersByHost: new Map() };
const workers = (...indexes: number[]): NodeToPlace[] => indexes.map((index) => ({ index, role: 'worker' as const }));

describe('the scheduler', () => {
  describe('filters say why a host cannot take a node', () => {
    const cases: { name: string; host: HostCandidate; req?: Partial<PlacementRequest>; reason: string }[] = [
      { name: 'an aggregate whose metadata the selector does not match', host: host('h1', { metadata: { flavor: 'vm' } }), req: { aggregateSelector: { matchLabels: { flavor: 'container' } } }, reason: 'AggregateNotSelected' },
      { name: 'an aggregate that does not allow the namespace', host: host('h1', { allowedNamespaces: { matchLabels: { tenant: 'true' } } }), req: { namespaceLabels: {} }, reason: 'NamespaceNotAllowed' },
      { name: 'a host that is not ready', host: host('h1', { ready: false, notReadyReason: 'Unreachable' }), reason: 'HostNotReady' },
      { name: 'a cordoned host', host: host('h1', { cordoned: true }), reason: 'HostCordoned' },
      { name: 'a host being evacuated', host: host('h1', { evacuating: true }), reason: 'HostEvacuating' },
      { name: 'a host without CPU left even with overcommit', host: host('h1', { capacity: { cpu: 1, memoryBytes: 32 * GiB }, overcommit: { cpu: 1, memory: 1 } }), reason: 'InsufficientCpu' },
      { name: 'a host without memory left', host: host('h1', { allocated: { cpu: 0, memoryBytes: 30 * GiB } }), reason: 'InsufficientMemory' },
      { name: 'a host whose pool lacks disk', host: host('h1', { capacity: { cpu: 8, memoryBytes: 32 * GiB, diskBytes: 10 * GiB } }), reason: 'InsufficientDisk' },
    ];
    it.each(cases)('rejects $name ($reason)', ({ host: h, req, reason }) => {
      const result = scheduleNodes(workers(0), { ...request, ...req }, [h], empty);
      expect(result.placements).toEqual([]);
      expect(result.unschedulable).toHaveLength(1);
      expect(result.unschedulable[0]!.rejections.map((r) => r.reason)).toEqual([reason]);
    });

    it('lets CPU overcommit admit more vCPUs than the host has', () => {
      const small = host('h1', { capacity: { cpu: 2, memoryBytes: 64 * GiB }, overcommit: { cpu: 4, memory: 1 } });
      expect(scheduleNodes(workers(0, 1, 2, 3), request, [small], empty).placements).toHaveLength(4);
      expect(scheduleNodes(workers(0, 1, 2, 3, 4), request, [small], empty).unschedulable.map((u) => u.index)).toEqual([4]);
    });

    it('never overcommits memory beyond the aggregate’s ratio', () => {
      const h = host('h1', { capacity: { cpu: 64, memoryBytes: 8 * GiB } });
      expect(scheduleNodes(workers(0, 1, 2), request, [h], empty).unschedulable.map((u) => u.index)).toEqual([2]);
    });
  });

  describe('weighers', () => {
    it('puts managers on distinct hosts where possible', () => {
      const managers: NodeToPlace[] = [0, 1, 2].map((index) => ({ index, role: 'manager' }));
      const result = scheduleNodes(managers, request, [host('h1'), host('h2'), host('h3')], empty);
      expect(new Set(result.placements.map((p) => p.host)).size).toBe(3);
    });

    it('still places managers when there are fewer hosts than managers', () => {
      const managers: NodeToPlace[] = [0, 1, 2].map((index) => ({ index, role: 'manager' }));
      expect(scheduleNodes(managers, request, [host('h1'), host('h2')], empty).placements).toHaveLength(3);
    });

    it('spreads a bay’s nodes over the hosts, counting the nodes it already has', () => {
      const footprint: BayFootprint = { nodesByHost: new Map([['metal/h1', 2]]), managersByHost: new Map([['metal/h1', 1]]) };
      const result = scheduleNodes(workers(2, 3), request, [host('h1'), host('h2'), host('h3')], footprint);
      expect(result.placements.map((p) => p.host).sort()).toEqual(['h2', 'h3']);
    });

    it('prefers the least allocated host among equals', () => {
      const busy = host('h1', { allocated: { cpu: 20, memoryBytes: 20 * GiB } });
      expect(scheduleNodes(workers(0), request, [busy, host('h2')], empty).placements[0]!.host).toBe('h2');
    });
  });

  it('is deterministic: equal hosts are chosen in name order, whatever the input order', () => {
    const a = scheduleNodes(workers(0), request, [host('h3'), host('h1'), host('h2')], empty);
    const b = scheduleNodes(workers(0), request, [host('h2'), host('h3'), host('h1')], empty);
    expect(a).toEqual(b);
    expect(a.placements[0]!.host).toBe('h1');
  });

  it('reserves each placed node so that the next one sees the host fuller', () => {
    const tight = host('h1', { capacity: { cpu: 64, memoryBytes: 8 * GiB } });
    const result = scheduleNodes(workers(0, 1), request, [tight, host('h2', { capacity: { cpu: 64, memoryBytes: 4 * GiB } })], empty);
    expect(result.placements.map((p) => p.host).sort()).toEqual(['h1', 'h2']);
  });

  it('reports every host’s reason when a node fits nowhere, so the bay can say so', () => {
    const result = scheduleNodes(workers(0), request, [host('h1', { cordoned: true }), host('h2', { ready: false, notReadyReason: 'ImageMissing' })], empty);
    const message = describeUnschedulable(result.unschedulable[0]!);
    expect(message).toContain('metal/h1: HostCordoned');
    expect(message).toContain('metal/h2: HostNotReady (host is not ready (ImageMissing))');
  });

  it('says so when no aggregate offers any host at all', () => {
    const result = scheduleNodes(workers(0), request, [], empty);
    expect(describeUnschedulable(result.unschedulable[0]!)).toContain('no aggregate offers any host');
  });
});

describe('a bay stays where its network reaches', () => {
  const managers = (...indexes: number[]): NodeToPlace[] => indexes.map((index) => ({ index, role: 'manager' as const }));
  const on = (key: string, n = 1): BayFootprint => ({ nodesByHost: new Map([[key, n]]), managersByHost: new Map() });

  it('an isolated aggregate keeps all of a bay on one host, even managers that would rather spread', () => {
    const hosts = ['h1', 'h2', 'h3'].map((h) => host(h, { networkReach: 'host' }));
    const result = scheduleNodes(managers(0, 1, 2), request, hosts, empty);
    expect(new Set(result.placements.map((p) => p.host)).size).toBe(1);
  });

  it('an isolated aggregate refuses to put a node beside a host of the bay that is full, and says why', () => {
    const full = host('h1', { networkReach: 'host', allocated: { cpu: 0, memoryBytes: 32 * GiB } });
    const result = scheduleNodes(workers(3), request, [full, host('h2', { networkReach: 'host' })], on('metal/h1', 3));
    expect(result.placements).toEqual([]);
    const message = describeUnschedulable(result.unschedulable[0]!);
    expect(message).toContain('metal/h1: InsufficientMemory');
    expect(message).toContain('metal/h2: NetworkUnreachable (the bay already has nodes on metal/h1: the isolated');
  });

  it('a bridged aggregate spreads managers over its hosts', () => {
    const hosts = ['h1', 'h2', 'h3'].map((h) => host(h, { networkReach: 'aggregate' }));
    const result = scheduleNodes(managers(0, 1, 2), request, hosts, empty);
    expect(result.placements.map((p) => p.host).sort()).toEqual(['h1', 'h2', 'h3']);
  });

  it('a bridged aggregate never takes a node of a bay whose nodes are on another aggregate', () => {
    const other = host('h9', { aggregate: 'lab', networkReach: 'aggregate' });
    const result = scheduleNodes(workers(1), request, [other], on('metal/h1'));
    expect(result.unschedulable[0]!.rejections[0]).toMatchObject({ reason: 'NetworkUnreachable' });
  });
});

describe('label selectors', () => {
  const labels = { zone: 'dfw1', flavor: 'container' };
  it.each([
    [undefined, true],
    [{}, true],
    [{ matchLabels: { zone: 'dfw1' } }, true],
    [{ matchLabels: { zone: 'ord1' } }, false],
    [{ matchExpressions: [{ key: 'zone', operator: 'In' as const, values: ['ord1', 'dfw1'] }] }, true],
    [{ matchExpressions: [{ key: 'zone', operator: 'NotIn' as const, values: ['dfw1'] }] }, false],
    [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' as const }] }, true],
    [{ matchExpressions: [{ key: 'gpu', operator: 'Exists' as const }] }, false],
  ])('%j matches %j → %s', (selector, expected) => {
    expect(selectorMatches(selector, labels)).toBe(expected);
  });
});

describe('quantities', () => {
  it.each([
    ['4Gi', 4 * GiB],
    ['512Mi', 512 * 2 ** 20],
    ['8G', 8e9],
    ['1048576', 1048576],
  ])('%s is %d bytes', (q, bytes) => expect(parseBytes(q)).toBe(bytes));
  it('refuses what is not a quantity', () => expect(() => parseBytes('lots')).toThrow(/not a quantity/));
});

describe('a flavor no host could ever hold', () => {
  const host = (cpu: number, over: Partial<HostCandidate> = {}): HostCandidate => ({
    aggregate: 'metal',
    host: `h${cpu}`,
    metadata: { suite: 'unit' },
    ready: true,
    cordoned: false,
    capacity: { cpu, memoryBytes: 64 * 2 ** 30 },
    allocated: { cpu: cpu * 4, memoryBytes: 64 * 2 ** 30 },
    overcommit: { cpu: 4, memory: 1 },
    ...over,
  });
  const request = (cpu: number): PlacementRequest => ({ namespace: 'team-a', namespaceLabels: {}, flavor: { cpu, memoryBytes: 2 ** 30, diskBytes: 2 ** 30 } });

  it('is told apart from a full host: a full host may have room later, a small one never', () => {
    expect(flavorFitsNowhere(request(8), [host(2), host(4)])).toBe(false); // 4 × 4 = 16 CPUs once empty
    expect(flavorFitsNowhere(request(64), [host(2), host(4)])).toBe(true);
  });

  it('is never claimed when no eligible host is ready: one may come', () => {
    expect(flavorFitsNowhere(request(64), [host(2, { ready: false })])).toBe(false);
    expect(flavorFitsNowhere(request(64), [])).toBe(false);
  });
});

describe('what a tenant reads of an unschedulable node', () => {
  const u = {
    index: 2,
    role: 'worker' as const,
    rejections: [
      { aggregate: 'metal', host: 'h1', reason: 'InsufficientCpu', message: 'needs 4 CPUs, 1 of 8 are free' },
      { aggregate: 'metal', host: 'h2', reason: 'HostNotReady', message: 'host is not ready (dial tcp 10.1.2.3:8443: connection refused)' },
      { aggregate: 'gpu-team-b', host: 'g1', reason: 'NamespaceNotAllowed', message: 'aggregate gpu-team-b does not allow namespace team-a' },
      { aggregate: 'other', host: 'o1', reason: 'AggregateNotSelected', message: "aggregate other does not match the bay's aggregateSelector" },
    ],
  };

  it('names only the hosts the bay may use, counts the others, and leaves out hosts\' own errors', () => {
    const text = describeUnschedulableForTenant(u);
    expect(text).toBe('no host can take node 2 (worker): metal/h1: InsufficientCpu (needs 4 CPUs, 1 of 8 are free); metal/h2: HostNotReady; 2 host(s) of aggregates this bay does not use');
    expect(text).not.toMatch(/gpu-team-b|other|10\.1\.2\.3/);
    // The operator's log keeps everything.
    expect(describeUnschedulable(u)).toContain('gpu-team-b/g1: NamespaceNotAllowed');
  });

  it("gives a host's CamelCase reason from its aggregate, which names no endpoint, so the tenant knows whom to ask", () => {
    const h2 = { ...u.rejections[1]!, code: 'Unreachable' };
    const text = describeUnschedulableForTenant({ ...u, rejections: [h2] });
    expect(text).toBe('no host can take node 2 (worker): metal/h2: HostNotReady (Unreachable: an admin fixes the aggregate)');
    expect(text).not.toContain('10.1.2.3');
  });

  it('carries that reason from the candidate through the HostReady filter', () => {
    const notReady = host('h1', { ready: false, notReadyReason: 'dial tcp 10.1.2.3:8443', notReadyCode: 'CredentialsMissing' });
    const placed = scheduleNodes([{ index: 0, role: 'manager' }], request, [notReady], empty);
    expect(placed.unschedulable[0]?.rejections[0]).toMatchObject({ reason: 'HostNotReady', code: 'CredentialsMissing' });
  });

  it('says so when no aggregate the bay may use offers a host', () => {
    expect(describeUnschedulableForTenant({ ...u, rejections: u.rejections.slice(2) })).toBe('no host can take node 2 (worker): no aggregate this bay may use offers a host');
  });
});
