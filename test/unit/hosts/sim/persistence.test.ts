import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { SimWorld, WorldFileError } from '../../../../src/hosts/sim/index.js';
import { listSwarmNodes, readLocalSwarmState } from '../../../../src/swarm/index.js';
import { waitFor } from '../../../support/processes.js';
import { SIM_IMAGE, bootSimNodes, fastWorld, simBay, simNodeSpec, simSwarm } from '../../../support/sim/index.js';

describe('a world kept in a file', () => {
  let directory: string;
  let file: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marina-sim-'));
    file = join(directory, 'world.json');
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('is found again by a new world: hosts, nodes, addresses, files, images and swarms', async () => {
    const before = fastWorld({ file, hosts: { h1: { cpu: 12 } } });
    const provider = before.provider('h1');
    const bay = simBay('persist');
    const { nodes, ids } = await simSwarm(before, provider, bay, 3);
    await provider.ensureNode(simNodeSpec(bay, 3));
    await provider.releaseNode(`${bay.bayName}-3`);
    before.setImage(SIM_IMAGE, 'cd'.repeat(32), 'h1');
    before.killDockerd('h1', nodes[2]!.name);
    const listedBefore = await provider.listNodes({});
    await before.close();

    const after = await SimWorld.open({ file, latency: { docker: 0, other: 0, list: 0 } });
    const again = after.provider('h1');

    expect(await again.listNodes({})).toEqual(listedBefore);
    expect((await again.capacity()).total.cpu).toBe(12);
    expect(await again.findImage(SIM_IMAGE)).toEqual({ alias: SIM_IMAGE, fingerprint: 'cd'.repeat(32) });
    expect(after.readFile('h1', nodes[0]!.name, '/etc/docker/server-key.pem')).toBe(
      before.readFile('h1', nodes[0]!.name, '/etc/docker/server-key.pem'),
    );
    expect(await again.ensureNode(simNodeSpec(bay, 3)).catch((e: unknown) => e)).toMatchObject({ code: 'conflict' });
    const members = await listSwarmNodes(after.dockerClient(nodes[0]!.address));
    expect(members.map((m) => [m.id, m.state])).toEqual([
      [ids[0], 'ready'],
      [ids[1], 'ready'],
      [ids[2], 'down'],
    ]);
    expect((await readLocalSwarmState(after.dockerClient(nodes[1]!.address))).nodeId).toBe(ids[1]);
  });

  it('hands out addresses not given before the restart, not even a freed one', async () => {
    const before = fastWorld({ file });
    const booted = await bootSimNodes(before, before.provider('h1'), simBay('addr'), 3);
    const taken = booted.map((n) => n.address);
    await before.provider('h1').deleteNode(booted[0]!.name);
    await before.close();

    const after = await SimWorld.open({ file });
    const [fresh] = await bootSimNodes(after, after.provider('h1'), simBay('addr2'), 1);

    expect(taken).not.toContain(fresh!.address);
  });

  it('keeps neither faults nor counters: they belong to the run that set them', async () => {
    const before = fastWorld({ file });
    await before.provider('h1').listNodes({});
    before.setHostReachable('h1', false);
    await before.save();

    const after = await SimWorld.open({ file });

    expect(after.calls().total).toBe(0);
    expect(await after.provider('h1').listNodes({})).toEqual([]);
  });

  it('saves by itself shortly after a change, through a temporary file that is renamed', async () => {
    const world = fastWorld({ file, saveDebounceMs: 20 });
    await world.provider('h1').ensureNode(simNodeSpec(simBay('auto'), 0));

    await waitFor(
      'the debounced save',
      async () => ((await readdir(directory)).includes('world.json') ? true : undefined),
      2_000,
      10,
    );

    expect((await SimWorld.open({ file })).instances('h1')).toHaveLength(1);
    expect((await readdir(directory)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('opens empty when its file does not exist yet, and refuses a file that is not a world', async () => {
    expect((await SimWorld.open({ file })).instances()).toEqual([]);

    await writeFile(file, JSON.stringify({ hello: 'world' }));
    await expect(SimWorld.open({ file })).rejects.toBeInstanceOf(WorldFileError);
  });

  it('stores what every node shares once', async () => {
    const world = fastWorld({ file });
    await simSwarm(world, world.provider('h1'), simBay('compact'), 3);
    const snapshot = world.snapshot();

    const daemonJson = world.readFile('h1', world.instances('h1')[0]!.name, '/etc/docker/daemon.json');
    expect(snapshot.strings.filter((s) => s === daemonJson)).toHaveLength(1);
    expect(snapshot.strings.filter((s) => s === 'security.nesting')).toHaveLength(1);
  });
});
