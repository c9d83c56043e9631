import { afterEach, describe, expect, inject, it } from 'vitest';
import type { Bay } from '../../../src/api/types.generated.js';
import { SimOperator } from '../../support/bays/sim-operator.js';

const kubeconfigPath = inject('kubeconfigPath');
const kubeBinDir = inject('kubeBinDir');

let sim: SimOperator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

const hostOf = (s: SimOperator, bay: Bay): Map<string, string> =>
  new Map(s.nodesOf(bay).map((i) => [i.name, i.host]));

/** Samples the bay while `work` runs: the fewest ready nodes and the most instances it ever had. */
async function watching<T>(s: SimOperator, name: string, work: () => Promise<T>): Promise<{ result: T; minReady: number; maxNodes: number }> {
  let minReady = Number.POSITIVE_INFINITY;
  let maxNodes = 0;
  let done = false;
  const sampler = (async () => {
    while (!done) {
      const bay = await s.bay(name);
      minReady = Math.min(minReady, bay.status?.readyNodes ?? 0);
      maxNodes = Math.max(maxNodes, s.nodesOf(bay).length);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    return { result: await work(), minReady, maxNodes };
  } finally {
    done = true;
    await sampler;
  }
}

describe('host evacuation (simulated hosts, real apiserver)', () => {
  it('moves every node off an evacuated host, a replacement first: never fewer ready nodes than declared', async () => {
    const s = (sim = await SimOperator.start(kubeconfigPath, kubeBinDir, { hosts: ['h1', 'h2', 'h3'] }));
    await s.applyBay('web', { nodes: 5, managers: 3 });
    const before = await s.waitReady('web');
    const onH1 = [...hostOf(s, before)].filter(([, host]) => host.endsWith('/h1')).map(([node]) => node);
    expect(onH1.length).toBeGreaterThan(0);

    const watched = await watching(s, 'web', async () => {
      await s.applyAggregate({ evacuate: ['h1'] });
      return s.waitFor('the bay off h1, Ready, with nothing left to replace', async () => {
        const bay = await s.bay('web');
        const replaced = bay.status?.conditions?.find((c) => c.type === 'NodesReplaced');
        const offH1 = ![...hostOf(s, bay).values()].some((h) => h.endsWith('/h1'));
        return offH1 && bay.status?.phase === 'Ready' && replaced?.reason === 'AllReplaced' ? bay : undefined;
      }, 90_000).catch(async (err: unknown) => {
        console.error(JSON.stringify((await s.bay('web')).status, null, 1), JSON.stringify(s.log.lines.slice(-30)));
        throw err;
      });
    });
    const after = watched.result;
    expect(watched.minReady).toBeGreaterThanOrEqual(5);
    // Surge first, one at a time: never more than one node beyond the bay's five.
    expect(watched.maxNodes).toBeLessThanOrEqual(6);
    expect(after.status?.readyNodes).toBe(5);
    expect(after.status?.nodes?.filter((n) => n.role === 'manager')).toHaveLength(3);
    // Every evacuated node is gone from its host, and the swarm lists exactly the bay's nodes.
    const names = after.status!.nodes!.map((n) => n.name).sort();
    for (const node of onH1) expect(names).not.toContain(node);
    expect(s.nodesOf(after).map((i) => i.name).sort()).toEqual(names);
    const replacements = after.status!.nodes!.filter((n) => n.replaces !== undefined).map((n) => n.replaces).sort();
    expect(replacements).toEqual([...onH1].sort());
    const events = await s.kubectl(['get', 'events', '-n', s.namespace, '--field-selector', 'reason=NodeRetired', '-o', 'name']);
    expect(events.stdout.trim().split('\n').filter(Boolean)).toHaveLength(onH1.length);
    // The aggregate says the host is empty now (its probe counts the nodes left).
    const h1 = await s.waitFor('h1 reported empty', async () => {
      const aggregate = JSON.parse((await s.kubectl(['get', 'hostaggregate', s.aggregate, '-o', 'json'])).stdout) as {
        status?: { hosts?: { name: string; reason?: string; message?: string }[] };
      };
      const host = aggregate.status?.hosts?.find((h) => h.name === 'h1');
      return host?.message?.startsWith('evacuated') ? host : undefined;
    });
    expect(h1).toMatchObject({ reason: 'Evacuating', message: 'evacuated: no bay node is left on the host' });
  });

  it('with no room elsewhere it pauses with a reason, the bay Ready and nothing deleted', async () => {
    const s = (sim = await SimOperator.start(kubeconfigPath, kubeBinDir, { hosts: ['h1', 'h2'] }));
    await s.applyAggregate({ cordoned: ['h2'] });
    await s.applyBay('web', { nodes: 2 });
    const before = await s.waitReady('web');
    await s.applyAggregate({ evacuate: ['h1'], cordoned: ['h2'] });
    const paused = await s.waitReason('web', 'NodesReplaced', 'ReplacementPaused');
    expect(paused.message).toMatch(/replacing node .* \(its host h1 is being evacuated\).*; paused: .*HostCordoned/);
    const bay = await s.bay('web');
    expect(bay.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(s.nodesOf(bay).map((i) => i.name).sort()).toEqual(s.nodesOf(before).map((i) => i.name).sort());

    // Room appears: the evacuation goes on by itself.
    await s.applyAggregate({ evacuate: ['h1'] });
    await s.waitReason('web', 'NodesReplaced', 'AllReplaced', 120_000);
    const after = await s.waitReady('web');
    expect([...hostOf(s, after).values()].every((h) => h.endsWith('/h2'))).toBe(true);
  });
});

describe('rolling node upgrades (simulated hosts, real apiserver)', () => {
  it('a bay that keeps its nodes says an upgrade is available; one that rolls replaces every node, a new one first', async () => {
    const s = (sim = await SimOperator.start(kubeconfigPath, kubeBinDir, { hosts: ['h1', 'h2'] }));
    await s.applyBay('kept', { nodes: 2 });
    await s.applyBay('rolled', { nodes: 3, managers: 3, upgradePolicy: 'Rolling' });
    const kept = await s.waitReady('kept');
    await s.waitReady('rolled');
    const keptNodes = s.nodesOf(kept).map((i) => i.uid).sort();

    const watched = await watching(s, 'rolled', async () => {
      await s.applyAggregate({ image: 'marina-node/trixie' });
      return s.waitFor('every node of rolled on the new image', async () => {
        const bay = await s.bay('rolled');
        const upToDate = bay.status?.conditions?.find((c) => c.type === 'NodesUpToDate');
        return upToDate?.reason === 'UpToDate' && bay.status?.phase === 'Ready' ? bay : undefined;
      }, 90_000);
    });
    const rolled = watched.result;
    expect(watched.minReady).toBeGreaterThanOrEqual(3);
    expect(watched.maxNodes).toBeLessThanOrEqual(4);
    const trixie = (host: string) => s.world.imageFingerprint(host, 'marina-node/trixie');
    const instances = s.nodesOf(rolled);
    expect(instances).toHaveLength(3);
    for (const i of instances) expect(i.config['volatile.base_image']).toBe(trixie(i.host));
    expect(rolled.status?.nodes?.filter((n) => n.role === 'manager')).toHaveLength(3);

    const manual = await s.waitReason('kept', 'NodesUpToDate', 'UpgradeAvailable');
    expect(manual.message).toMatch(/2 node\(s\) run an older image than marina-node\/trixie; set spec.upgradePolicy: Rolling/);
    expect(s.nodesOf(await s.bay('kept')).map((i) => i.uid).sort()).toEqual(keptNodes);
  });
});
