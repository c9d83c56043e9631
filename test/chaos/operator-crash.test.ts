import { describe, expect, it } from 'vitest';
import { getBay } from '../support/bays/cluster.js';
import { useBayTestEnvironment } from '../support/bays/environment.js';
import {
  bayFootprint,
  expectExactlyDeclared,
  readyForSpec,
  twinIndexes,
} from '../support/chaos/footprint.js';
import { chaosRandom } from '../support/chaos/random.js';
import { recordChaos } from '../support/chaos/record.js';
import { mustKubectl } from '../support/kubectl.js';
import { inNamespace } from '../support/lxd/index.js';

const env = useBayTestEnvironment('chaos-crash');
const random = chaosRandom('operator-crash');
/** Kills of the operator each of creation, growth and deletion must see, at least. */
const ROUNDS = 10;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The bays this file created and has not deleted yet, with the CA each had from the start. */
const live = new Map<string, { uid: string; ca: string; nodes: number }>();

/**
 * Kills the operator with SIGKILL at random moments (a pause drawn from `pauseMs` before each) until
 * `settled()` holds, checking `whileDown` each time it lies dead, and starting it again. From the third
 * kill of one operation on, the longest pause grows by half with each kill, as a supervisor's restart
 * back-off would: a step that needs longer than the first pauses (a busy machine, a slow boot) is
 * reached too, and the loop ends. After `maxKills` it only waits. The number of kills it took.
 */
async function killUntilSettled(
  settled: () => Promise<boolean>,
  pauseMs: readonly [number, number],
  whileDown: () => Promise<void>,
  maxKills = Infinity,
): Promise<number> {
  let kills = 0;
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    await sleep(random.delayMs(pauseMs[0], Math.min(pauseMs[1] * 1.5 ** Math.max(0, kills - 2), 60_000)));
    if (await settled()) return kills;
    if (kills >= maxKills) continue;
    await env.operator.kill();
    kills++;
    await whileDown();
    env.operator.start();
  }
  throw new Error(`not settled within 5 minutes and ${kills} kills\n${env.operator.logTail()}`);
}

/** Deletes a bay with the operator left alone, and forgets it. */
async function deleteWithoutFaults(name: string): Promise<void> {
  await mustKubectl(env.kubectl, ['delete', 'bay', name, '-n', env.namespace, '--timeout=180s']);
  live.delete(name);
}

/** A settled bay has exactly its declared nodes, each once, in its swarm once, and the CA it began with. */
const expectExactly = (name: string, nodes: number): Promise<unknown> =>
  expectExactlyDeclared(env, name, { ...live.get(name)!, nodes });

/** While the operator lies dead: no index twice, the CA unchanged once made, never more nodes than declared. */
async function expectNoTwin(uid: string, declared: number, kept: readonly string[] = []): Promise<void> {
  const footprint = await bayFootprint(env, uid);
  expect(twinIndexes(footprint.instances)).toEqual([]);
  expect(footprint.instances.length).toBeLessThanOrEqual(declared);
  // Growth never takes a node away, even for a moment.
  for (const name of kept) expect(footprint.instances.map((i) => i.name)).toContain(name);
}

describe('the operator killed with SIGKILL at random moments (real apiserver, LXD, dockerd and swarm)', () => {
  it(`3-node bays created through ${ROUNDS}+ kills: exactly 3 nodes each, no twin, no duplicate member, the CA kept`, async () => {
    let kills = 0;
    let made = 0;
    for (let b = 0; kills < ROUNDS; b++) {
      made++;
      const name = `born-${b}`;
      await env.applyBay(name, { nodes: 3 });
      const uid = (await getBay(env.kubectl, env.namespace, name)).metadata.uid;
      const entry = { uid, ca: '', nodes: 3 };
      live.set(name, entry);
      kills += await killUntilSettled(() => readyForSpec(env.kubectl, env.namespace, name), [500, 5_000], async () => {
        const { ca } = await bayFootprint(env, uid);
        // The CA is made once: whatever exists at a kill is what the bay keeps.
        if (entry.ca === '') entry.ca = ca;
        else expect(ca).toBe(entry.ca);
        await expectNoTwin(uid, 3);
      });
      if (entry.ca === '') entry.ca = (await bayFootprint(env, uid)).ca;
      await expectExactly(name, 3);
      // Two bays stay for the growth rounds: a 2-core machine running a dozen more nodes answers too slowly.
      if (live.size > 2) await deleteWithoutFaults(live.keys().next().value!);
    }
    recordChaos({ fault: 'operator SIGKILL while a 3-node bay is created', rounds: kills, bays: made });
  });

  // Two kills at random moments of each growth, then it must settle by itself: a growth reconciles in one
  // pass, which a kill every few seconds on a busy machine could keep from ever finishing.
  it(`bays grown a node at a time through ${ROUNDS}+ kills: every node kept, exactly the new count, one member each`, async () => {
    let kills = 0;
    let grown = 0;
    while (kills < ROUNDS) {
      for (const [name, entry] of live) {
        if (kills >= ROUNDS) break;
        const before = (await bayFootprint(env, entry.uid)).instances.map((i) => i.name);
        entry.nodes += 1;
        await mustKubectl(env.kubectl, ['patch', 'bay', name, '-n', env.namespace, '--type=merge', '-p', JSON.stringify({ spec: { nodes: entry.nodes } })]);
        kills += await killUntilSettled(
          () => readyForSpec(env.kubectl, env.namespace, name),
          [300, 4_000],
          () => expectNoTwin(entry.uid, entry.nodes, before),
          2,
        );
        grown++;
        await expectExactly(name, entry.nodes);
      }
    }
    recordChaos({ fault: 'operator SIGKILL while a bay grows by a node', rounds: kills, bays: grown });
  });

  it(`bays deleted through ${ROUNDS}+ kills: no instance, no Secret and no bay left`, async () => {
    let kills = 0;
    let deleted = 0;
    for (let extra = 0; kills < ROUNDS || live.size > 0; extra++) {
      if (live.size === 0) {
        // Deletions take a few seconds: more bays, made without faults, until the rounds are done.
        const name = `extra-${extra}`;
        await env.applyBay(name, { nodes: 3 });
        await env.waitReady(name);
        const uid = (await getBay(env.kubectl, env.namespace, name)).metadata.uid;
        live.set(name, { uid, ca: (await bayFootprint(env, uid)).ca, nodes: 3 });
      }
      const [name, { uid }] = live.entries().next().value!;
      await mustKubectl(env.kubectl, ['delete', 'bay', name, '-n', env.namespace, '--wait=false']);
      const gone = async (): Promise<boolean> =>
        (await env.kubectl(['get', 'bay', name, '-n', env.namespace, '-o', 'name'])).stdout.trim() === '';
      kills += await killUntilSettled(gone, [400, 3_000], async () => {
        expect(twinIndexes((await bayFootprint(env, uid)).instances)).toEqual([]);
      });
      live.delete(name);
      deleted++;
      const footprint = await bayFootprint(env, uid);
      expect(footprint.instances.map((i) => i.name)).toEqual([]);
      expect(footprint.internalSecrets).toEqual([]);
      const credentials = await env.kubectl(['get', 'secret', `${name}-credentials`, '-n', env.namespace, '-o', 'name']);
      expect(credentials.stdout.trim()).toBe('');
    }
    // Nothing of the namespace is left on the host: no instance leaked by any round.
    expect((await env.lxc.list()).filter(inNamespace(env.namespace)).map((i) => i.name)).toEqual([]);
    recordChaos({ fault: 'operator SIGKILL while a bay is deleted', rounds: kills, bays: deleted });
  });
});
