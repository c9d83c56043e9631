import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SimWorld } from '../../../../src/hosts/sim/index.js';
import { listSwarmNodes } from '../../../../src/swarm/index.js';
import { fastWorld, simBay, simSwarm, type SimSwarm } from '../../../support/sim/index.js';

const BAYS = 1_000;
const NODES_PER_BAY = 3;
const HOSTS = 10;
const WAVE = 50;
const MiB = 1024 ** 2;

/** Node's gc, without starting the test process with --expose-gc. */
function collectGarbage(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

describe('a fleet of 3,000 simulated nodes', () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'marina-sim-'));
  });

  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('fits comfortably: 1,000 swarms over TLS in seconds, in well under 50 MB, cheap to save and load', async () => {
    const gc = collectGarbage();
    const file = join(directory, 'world.json');
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const world = fastWorld({ file });
    let last: SimSwarm | undefined;

    // Fifty bays at a time, like the operator's bounded concurrency; only the world keeps them.
    for (let wave = 0; wave < BAYS / WAVE; wave++) {
      const bays = Array.from({ length: WAVE }, (_, i) => wave * WAVE + i);
      const formed = await Promise.all(
        bays.map((bay) => simSwarm(world, world.provider(`host-${bay % HOSTS}`), simBay(`b${bay}`), NODES_PER_BAY)),
      );
      last = formed.at(-1);
    }
    const buildMs = performance.now() - started;
    gc();
    const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / MiB;

    const saveStarted = performance.now();
    await world.save();
    const saveMs = performance.now() - saveStarted;
    const loadStarted = performance.now();
    const loaded = await SimWorld.open({ file });
    const loadMs = performance.now() - loadStarted;
    const sizeMiB = (await stat(file)).size / MiB;
    console.info(
      `[sim scale] ${BAYS * NODES_PER_BAY} nodes in ${BAYS} swarms: ${Math.round(buildMs)} ms, ` +
        `heap +${heapMiB.toFixed(1)} MiB; ` +
        `saved in ${Math.round(saveMs)} ms (${sizeMiB.toFixed(1)} MiB), loaded in ${Math.round(loadMs)} ms`,
    );

    expect(world.instances()).toHaveLength(BAYS * NODES_PER_BAY);
    expect(world.swarmCount).toBe(BAYS);
    expect(buildMs).toBeLessThan(60_000);
    expect(heapMiB).toBeLessThan(50);
    expect(saveMs).toBeLessThan(2_000);
    expect(sizeMiB).toBeLessThan(20);
    expect(loaded.instances()).toHaveLength(BAYS * NODES_PER_BAY);
    expect(await listSwarmNodes(loaded.dockerClient(last!.leader.address))).toHaveLength(NODES_PER_BAY);
    await world.close();
  }, 120_000);
});
