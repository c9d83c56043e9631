import { describe, expect, it } from 'vitest';
import type { NodeOutcome } from '../../../src/controllers/bay/nodes.js';
import type { PlannedNode } from '../../../src/controllers/bay/plan.js';
import { swarmFormation, type FormationPlan } from '../../../src/controllers/bay/swarm-formation.js';
import { listSwarmNodes, readLocalSwarmState } from '../../../src/swarm/index.js';
import { bootSimNodes, fastWorld, serveTls, simBay, type SimNode } from '../../support/sim/index.js';

/** Four simulated nodes serving TLS, not in any swarm; node 0 and 1 are managers. */
interface FourNodes {
  readonly nodes: SimNode[];
  readonly planned: PlannedNode[];
  readonly plan: FormationPlan;
  /** The nodes whose early swarm step failed. */
  readonly failures: string[];
}

async function fourNodes(): Promise<FourNodes> {
  const world = fastWorld();
  const provider = world.provider('h1');
  const nodes = await bootSimNodes(world, provider, simBay('formation'), 4);
  await Promise.all(nodes.map((n) => serveTls(provider, n)));
  const byAddress = new Map(nodes.map((n) => [n.address, n.client]));
  const planned = nodes.map(
    (n, index): PlannedNode => ({ name: n.name, index, role: index < 2 ? 'manager' : 'worker', state: 'present' }),
  );
  const failures: string[] = [];
  return {
    nodes,
    planned,
    plan: {
      connect: (address) => byAddress.get(address)!,
      nodes: planned,
      hasSwarm: false,
      leaving: () => false,
      onFailure: (node) => failures.push(node),
    },
    failures,
  };
}

const up = (node: SimNode): NodeOutcome => ({
  ok: true,
  address: node.address,
  tls: { generation: 'g', serial: '1', notAfter: new Date() },
  created: true,
  drift: [],
  repaired: [],
});

describe('a swarm formed as nodes come up', () => {
  it("a new bay's lowest-index manager founds it; the others join in their roles, in any order", async () => {
    const { nodes, planned, plan, failures } = await fourNodes();
    const formation = swarmFormation(plan)!;

    // The workers answer first and wait for the founder; the second manager joins after it.
    await Promise.all([3, 2, 1, 0].map((i) => formation.afterBringUp(planned[i]!, nodes[i]!.name, up(nodes[i]!))));

    const members = await listSwarmNodes(nodes[0]!.client);
    const roles = nodes.map((n, i) => [n.name, i < 2 ? 'manager' : 'worker']);
    expect(members.map((m) => [m.hostname, m.role]).sort()).toEqual(roles.sort());
    expect(formation.initialised).toBe(true);
    expect([...formation.joined].sort()).toEqual(nodes.slice(1).map((n) => n.name).sort());
    expect(failures).toEqual([]);
  });

  it('a founder that does not come up leaves the others to the swarm phase, and none waits for it', async () => {
    const { nodes, planned, plan } = await fourNodes();
    const formation = swarmFormation(plan)!;

    await Promise.all([
      formation.afterBringUp(planned[2]!, nodes[2]!.name, up(nodes[2]!)),
      formation.afterBringUp(planned[0]!, nodes[0]!.name, undefined),
    ]);

    expect((await readLocalSwarmState(nodes[2]!.client)).state).toBe('inactive');
    expect(formation.joined).toEqual([]);
  });

  it('a node on its way out is not joined', async () => {
    const { nodes, planned, plan } = await fourNodes();
    const formation = swarmFormation({ ...plan, leaving: (n) => n.index === 3 })!;

    await Promise.all([0, 3].map((i) => formation.afterBringUp(planned[i]!, nodes[i]!.name, up(nodes[i]!))));

    expect((await readLocalSwarmState(nodes[3]!.client)).state).toBe('inactive');
    expect(formation.joined).toEqual([]);
  });

  it('none for a bay that has a swarm (new nodes join it in the swarm phase), nor without a manager', async () => {
    const { plan } = await fourNodes();
    expect(swarmFormation({ ...plan, hasSwarm: true })).toBeUndefined();
    const workersOnly = plan.nodes.map((n): PlannedNode => ({ ...n, role: 'worker' }));
    expect(swarmFormation({ ...plan, nodes: workersOnly })).toBeUndefined();
  });
});
