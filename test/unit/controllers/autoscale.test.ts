import { describe, expect, it } from 'vitest';
import type { BayAutoscaleSpec } from '../../../src/api/types.generated.js';
import { capacityNote, decideAutoscale, nodesFor } from '../../../src/controllers/bay/autoscale.js';
import { aggregateUsage, type SwarmNode, type SwarmTask } from '../../../src/swarm/index.js';

const MiB = 1024 ** 2;
const perNode = { nanoCpus: 1e9, memoryBytes: 512 * MiB };
const spec: BayAutoscaleSpec = { enabled: true, maxNodes: 4, thresholdPercent: 80, cooldown: '1m' };
const t0 = new Date('2027-01-01T00:00:00Z');

const node = (i: number, over: Partial<SwarmNode> = {}): SwarmNode => ({
  id: `n${i}`,
  version: 1,
  hostname: `web-${i}`,
  role: i === 0 ? 'manager' : 'worker',
  availability: 'active',
  state: 'ready',
  managerReachability: i === 0 ? 'reachable' : undefined,
  leader: i === 0,
  addr: undefined,
  nanoCpus: 1e9,
  memoryBytes: 512 * MiB,
  engineVersion: '20.10',
  ...over,
});

const task = (nodeId: string | undefined, memoryMiB: number, cpus = 0, over: Partial<SwarmTask> = {}): SwarmTask => ({
  id: `t-${Math.random()}`,
  serviceId: 's',
  nodeId,
  desiredState: 'running',
  state: nodeId ? 'running' : 'pending',
  reservedNanoCpus: cpus * 1e9,
  reservedMemoryBytes: memoryMiB * MiB,
  statusMessage: nodeId ? 'started' : 'no suitable node (insufficient resources on 2 nodes)',
  ...over,
});

const usageOf = (nodes: SwarmNode[], tasks: SwarmTask[]) => aggregateUsage(nodes, tasks, { nodeCapacity: perNode });

describe('grow-only autoscaling (fake clock)', () => {
  it('under the threshold nothing changes', () => {
    const usage = usageOf([node(0), node(1)], [task('n0', 300), task('n1', 300)]);
    expect(decideAutoscale({ spec, desired: 2, perNode, usage, lastScaleUp: undefined, now: t0 })).toEqual({ kind: 'steady' });
  });

  it('past the threshold it asks for as many nodes as bring reservations under it, in one step', () => {
    // 4 × 220 MiB = 880 MiB of 1024 MiB: 86%. Under 80% needs ⌈880 / (0.8 × 512)⌉ = 3 nodes.
    const usage = usageOf([node(0), node(1)], [task('n0', 220), task('n0', 220), task('n1', 220), task('n1', 220)]);
    const decision = decideAutoscale({ spec, desired: 2, perNode, usage, lastScaleUp: undefined, now: t0 });
    expect(decision).toMatchObject({ kind: 'grow', target: 3 });
    expect((decision as { reason: string }).reason).toContain('reserved memory 85.9% ≥ 80%');
  });

  it('tasks pending for lack of room make it grow at once, counting what they would reserve', () => {
    // CPU: 4 × 0.45 placed, 1 × 0.45 pending; 2.25 CPUs need ⌈2.25 / 0.8⌉ = 3 nodes.
    const placed = [task('n0', 0, 0.45), task('n0', 0, 0.45), task('n1', 0, 0.45), task('n1', 0, 0.45)];
    const usage = usageOf([node(0), node(1)], [...placed, task(undefined, 0, 0.45)]);
    expect(usage.waitingForRoom.tasks).toBe(1);
    expect(nodesFor(usage, perNode, 80)).toBe(3);
    expect(decideAutoscale({ spec, desired: 2, perNode, usage, lastScaleUp: undefined, now: t0 })).toMatchObject({ kind: 'grow', target: 3 });
    // Even under the threshold: one pending task is enough.
    const light = usageOf([node(0), node(1)], [task(undefined, 100)]);
    expect(decideAutoscale({ spec, desired: 2, perNode, usage: light, lastScaleUp: undefined, now: t0 })).toMatchObject({ kind: 'grow', target: 3 });
  });

  it('a task waiting for something other than room (a constraint) does not grow the bay', () => {
    const usage = usageOf([node(0)], [task(undefined, 100, 0, { statusMessage: 'no suitable node (scheduling constraints not satisfied on 1 node)' })]);
    expect(decideAutoscale({ spec, desired: 1, perNode, usage, lastScaleUp: undefined, now: t0 })).toEqual({ kind: 'steady' });
  });

  it('stops at maxNodes and says so', () => {
    const usage = usageOf([0, 1, 2, 3].map((i) => node(i)), [0, 1, 2, 3].map((i) => task(`n${i}`, 500)));
    expect(decideAutoscale({ spec, desired: 4, perNode, usage, lastScaleUp: undefined, now: t0 })).toMatchObject({ kind: 'blocked', reason: 'MaxNodesReached' });
    const far = usageOf([node(0), node(1)], [task('n0', 500), task('n1', 500), task(undefined, 2000)]);
    expect(decideAutoscale({ spec, desired: 2, perNode, usage: far, lastScaleUp: undefined, now: t0 })).toMatchObject({ kind: 'grow', target: 4 });
  });

  it("never asks for more nodes than the namespace's node quota leaves the bay, and says which quota stops it", () => {
    const far = usageOf([node(0), node(1)], [task('n0', 500), task('n1', 500), task(undefined, 2000)]);
    const quota = { cap: 3, words: 'namespace team-x allows 5 nodes (marina.dev/max-nodes)' };
    const input = { spec, desired: 2, perNode, usage: far, lastScaleUp: undefined, now: t0, quota };
    expect(decideAutoscale(input)).toMatchObject({ kind: 'grow', target: 3 });
    const at = decideAutoscale({ ...input, desired: 3 });
    expect(at).toMatchObject({ kind: 'blocked', reason: 'QuotaReached' });
    expect((at as { message: string }).message).toContain('namespace team-x allows 5 nodes (marina.dev/max-nodes)');
  });

  it('waits out the cooldown after a scale-up', () => {
    const usage = usageOf([node(0), node(1)], [task('n0', 500), task('n1', 500)]);
    const soon = decideAutoscale({ spec, desired: 2, perNode, usage, lastScaleUp: new Date(t0.getTime() - 30_000), now: t0 });
    expect(soon).toMatchObject({ kind: 'blocked', reason: 'CoolingDown', retryAt: new Date(t0.getTime() + 30_000) });
    expect(decideAutoscale({ spec, desired: 2, perNode, usage, lastScaleUp: new Date(t0.getTime() - 60_000), now: t0 })).toMatchObject({ kind: 'grow' });
  });

  it('a node reporting the host\'s memory (no lxcfs) is noted, and counted at the flavor', () => {
    const usage = usageOf([node(0, { memoryBytes: 24 * 1024 * MiB })], [task('n0', 256)]);
    expect(usage.memoryPercent).toBe(50);
    expect(capacityNote(usage, perNode)).toContain('24576 MiB');
    expect(capacityNote(usageOf([node(0)], []), perNode)).toBeUndefined();
  });
});
