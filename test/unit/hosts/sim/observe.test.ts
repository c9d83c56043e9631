import { describe, expect, it } from 'vitest';

import { SIM_FLAVOR, fastWorld, simBay, simNodeSpec } from '../../../support/sim/index.js';

const GiB = 1024 ** 3;

describe("a host's capacity and one look at it", () => {
  it('totals are the host hardware; allocated counts every instance, reservedByMarina only marina nodes', async () => {
    const world = fastWorld({ hosts: { h1: { cpu: 16, memoryBytes: 64 * GiB, diskBytes: 1024 * GiB } } });
    const provider = world.provider('h1');
    const bay = simBay('capacity');
    await provider.ensureNode(simNodeSpec(bay, 0));
    await provider.ensureNode(simNodeSpec(bay, 1));
    world.addForeignInstance('h1', {
      name: 'database',
      cpu: 4,
      memoryBytes: 16 * GiB,
      diskBytes: 100 * GiB,
      running: true,
    });
    world.addForeignInstance('h1', { name: 'sandbox' });

    const capacity = await provider.capacity();

    expect(capacity).toEqual({
      host: 'h1',
      total: { cpu: 16, memoryBytes: 64 * GiB, diskBytes: 1024 * GiB },
      allocated: {
        cpu: 2 * 2 + 4,
        memoryBytes: 2 * 4 * GiB + 16 * GiB,
        diskBytes: 2 * 20 * GiB + 100 * GiB,
        instances: 4,
        unlimitedInstances: 1,
      },
      reservedByMarina: { cpu: 4, memoryBytes: 8 * GiB, diskBytes: 40 * GiB, instances: 2, unlimitedInstances: 0 },
    });
  });

  it("observe gives capacity and marina's unreleased nodes, with addresses, from one listing call", async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const bay = simBay('observe');
    for (const index of [0, 1, 2]) await provider.ensureNode(simNodeSpec(bay, index));
    await provider.startNode(`${bay.bayName}-1`);
    await provider.releaseNode(`${bay.bayName}-2`);
    world.addForeignInstance('h1', { name: 'other', cpu: 1 });
    world.resetCalls();

    const { capacity, nodes } = await provider.observe();

    expect(world.calls().hosts).toEqual({ h1: { total: 1, operations: { observe: 1 } } });
    expect(nodes.map((n) => [n.name, n.status, n.ipv4Address !== undefined])).toEqual([
      [`${bay.bayName}-0`, 'stopped', false],
      [`${bay.bayName}-1`, 'running', true],
    ]);
    // A released node still uses the host: it counts in the capacity, marina just no longer manages it.
    expect(capacity.reservedByMarina.instances).toBe(3);
    expect(capacity.allocated.instances).toBe(4);
    expect(capacity.reservedByMarina.cpu).toBe(3 * SIM_FLAVOR.cpu);
  });

  it('hosts created on first use get the default hardware, which the world can be told', async () => {
    const world = fastWorld({ defaultHost: { cpu: 8, memoryBytes: 32 * GiB } });

    expect((await world.provider('anywhere').capacity()).total).toMatchObject({ cpu: 8, memoryBytes: 32 * GiB });
    world.defineHost('anywhere', { cpu: 12 });
    expect((await world.provider('anywhere').capacity()).total.cpu).toBe(12);
  });

  it('each host has its own subnet, and addresses are unique across the world', async () => {
    const world = fastWorld();
    const bay = simBay('subnets');
    const addresses: string[] = [];
    for (const host of ['h1', 'h2', 'h3']) {
      const provider = world.provider(host);
      for (const index of [0, 1]) {
        const spec = simNodeSpec(bay, index, { name: `${host}-${bay.bayName}-${index}` });
        await provider.ensureNode(spec);
        await provider.startNode(spec.name);
        addresses.push((await provider.getNode(spec.name))!.ipv4Address!);
      }
    }

    expect(new Set(addresses).size).toBe(6);
    expect(new Set(['h1', 'h2', 'h3'].map((h) => world.bridgeCidr(h))).size).toBe(3);
  });
});

describe('call counters', () => {
  it('count every call by host and operation, failures too, and dockerd calls by route', async () => {
    const world = fastWorld();
    const spec = simNodeSpec(simBay('count'), 0);
    const h1 = world.provider('h1');
    await h1.ensureNode(spec);
    await h1.startNode(spec.name);
    await h1.getNode(spec.name);
    await h1.getNode(spec.name);
    await world.provider('h2').listNodes({});
    await world
      .provider('h2')
      .startNode('nobody')
      .catch(() => undefined);
    const address = (await h1.getNode(spec.name))!.ipv4Address!;
    await world
      .docker(address)
      .ping()
      .catch(() => undefined);

    expect(world.callCount('h1', 'get-node')).toBe(3);
    expect(world.callCount('h1')).toBe(5);
    expect(world.callCount('h2')).toBe(2);
    expect(world.callCount(undefined, 'start-node')).toBe(2);
    expect(world.dockerCallCount('GET /_ping')).toBe(1);
    expect(world.calls().total).toBe(8);

    world.resetCalls();
    expect(world.calls()).toEqual({ total: 0, hosts: {}, docker: { total: 0, operations: {} } });
  });
});
