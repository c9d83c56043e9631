import { describe, expect, it } from 'vitest';
import { aggregateUsage, awaitsPlacement, holdsReservation, isOnNode, percent } from '../../../src/swarm/index.js';
import { CPU, GIB, node, task } from '../../support/swarm/wire-fixtures.js';

describe('reserved versus available resources', () => {
  const nodes = [node({ id: 'a', hostname: 'web-0', cpus: 2, memoryGiB: 4 }), node({ id: 'b', hostname: 'web-1', cpus: 2, memoryGiB: 4 })];

  it('sums the reservations of running tasks per node against its capacity', () => {
    const result = aggregateUsage(nodes, [task({ nodeId: 'a', cpus: 1, memoryGiB: 1 }), task({ nodeId: 'a', cpus: 0.5, memoryGiB: 2 })]);
    expect(result.nodes[0]).toEqual({
      nodeId: 'a',
      hostname: 'web-0',
      schedulable: true,
      capacity: { nanoCpus: 2 * CPU, memoryBytes: 4 * GIB },
      reportedNanoCpus: 2 * CPU,
      reportedMemoryBytes: 4 * GIB,
      reserved: { nanoCpus: 1.5 * CPU, memoryBytes: 3 * GIB },
      tasks: 2,
      cpuPercent: 75,
      memoryPercent: 75,
    });
    expect(result.nodes[1]).toMatchObject({ reserved: { nanoCpus: 0, memoryBytes: 0 }, tasks: 0, cpuPercent: 0 });
  });

  it('gives the bay totals over its schedulable nodes', () => {
    const result = aggregateUsage(nodes, [task({ nodeId: 'a', cpus: 1, memoryGiB: 1 }), task({ nodeId: 'b', cpus: 2, memoryGiB: 1 })]);
    expect(result.capacity).toEqual({ nanoCpus: 4 * CPU, memoryBytes: 8 * GIB });
    expect(result.reserved).toEqual({ nanoCpus: 3 * CPU, memoryBytes: 2 * GIB });
    expect(result.cpuPercent).toBe(75);
    expect(result.memoryPercent).toBe(25);
  });

  it('counts a task without reservations as reserving nothing (limits do not count)', () => {
    const result = aggregateUsage(nodes, [task({ nodeId: 'a' })]);
    expect(result.nodes[0]).toMatchObject({ tasks: 1, reserved: { nanoCpus: 0, memoryBytes: 0 } });
  });

  it('ignores tasks that are finished or meant to stop', () => {
    const result = aggregateUsage(nodes, [
      task({ nodeId: 'a', cpus: 1, state: 'complete' }),
      task({ nodeId: 'a', cpus: 1, state: 'failed' }),
      task({ nodeId: 'a', cpus: 1, desiredState: 'shutdown' }),
    ]);
    expect(result.reserved.nanoCpus).toBe(0);
  });

  it('counts tasks that are assigned but still starting: their reservation is already taken', () => {
    const result = aggregateUsage(nodes, [task({ nodeId: 'a', cpus: 1, state: 'preparing' }), task({ nodeId: 'a', cpus: 1, state: 'assigned' })]);
    expect(result.nodes[0]?.reserved.nanoCpus).toBe(2 * CPU);
  });

  it('leaves drained and down nodes out of the totals but still reports them', () => {
    const mixed = [...nodes, node({ id: 'c', availability: 'drain' }), node({ id: 'd', state: 'down' })];
    const result = aggregateUsage(mixed, [task({ nodeId: 'c', cpus: 1, state: 'running' })]);
    expect(result.capacity.nanoCpus).toBe(4 * CPU);
    expect(result.reserved.nanoCpus).toBe(0);
    expect(result.nodes.map((n) => [n.nodeId, n.schedulable])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
      ['d', false],
    ]);
  });

  it('reports tasks waiting for a node with room, the clearest sign the bay is full', () => {
    const result = aggregateUsage(nodes, [task({ state: 'pending', cpus: 3, memoryGiB: 1 }), task({ state: 'pending', cpus: 1 })]);
    expect(result.waiting).toEqual({ tasks: 2, reserved: { nanoCpus: 4 * CPU, memoryBytes: 1 * GIB } });
  });

  it("caps each node's capacity at the flavor: LXC without lxcfs reports the host's memory", () => {
    const hostSized = [node({ id: 'a', cpus: 2, memoryGiB: 64 })];
    const result = aggregateUsage(hostSized, [task({ nodeId: 'a', memoryGiB: 2 })], { nodeCapacity: { nanoCpus: 2 * CPU, memoryBytes: 4 * GIB } });
    expect(result.capacity.memoryBytes).toBe(4 * GIB);
    expect(result.memoryPercent).toBe(50);
  });

  it('reads a swarm without schedulable nodes as full when something is reserved, empty otherwise', () => {
    expect(percent(0, 0)).toBe(0);
    expect(percent(1, 0)).toBe(100);
    expect(percent(1, 3)).toBe(33.3);
  });
});

describe('task states', () => {
  it('hold a reservation from assignment until they stop running', () => {
    const states = ['new', 'allocated', 'pending', 'assigned', 'accepted', 'preparing', 'ready', 'starting', 'running', 'complete', 'shutdown', 'failed', 'rejected', 'remove', 'orphaned'];
    expect(states.filter((state) => holdsReservation(task({ nodeId: 'a', state })))).toEqual(['assigned', 'accepted', 'preparing', 'ready', 'starting', 'running']);
    expect(states.filter((state) => awaitsPlacement(task({ state })))).toEqual(['new', 'allocated', 'pending']);
  });

  it('keep a node busy while shutting down: a drained node is free only when they stopped', () => {
    expect(isOnNode(task({ nodeId: 'a', state: 'running', desiredState: 'shutdown' }))).toBe(true);
    expect(isOnNode(task({ nodeId: 'a', state: 'shutdown', desiredState: 'shutdown' }))).toBe(false);
    expect(holdsReservation(task({ nodeId: 'a', state: 'running', desiredState: 'shutdown' }))).toBe(false);
  });
});
