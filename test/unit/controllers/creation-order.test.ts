import { describe, expect, it } from 'vitest';
import { creationTurns } from '../../../src/controllers/bay/creation-order.js';
import type { PlannedNode } from '../../../src/controllers/bay/plan.js';

type Role = PlannedNode['role'];
const node = (index: number, role: Role, host: string, state: PlannedNode['state'] = 'new'): PlannedNode => ({
  index,
  role,
  state,
  aggregate: 'metal',
  host,
});

/** Runs each node's turn as the nodes phase does and returns the order the nodes were created in. */
async function createdInOrder(nodes: readonly PlannedNode[]): Promise<number[]> {
  const turns = creationTurns(nodes);
  const order: number[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      const turn = turns.get(n.index);
      await turn?.ready;
      await new Promise((resolve) => setTimeout(resolve, 5 - n.index));
      order.push(n.index);
      turn?.done();
    }),
  );
  return order;
}

describe('the order a reconcile creates nodes in', () => {
  it('managers first, then workers, each by index: the founding manager boots first', async () => {
    const roles: Role[] = ['worker', 'manager', 'worker', 'manager'];
    expect(await createdInOrder(roles.map((role, i) => node(i, role, 'h1')))).toEqual([1, 3, 0, 2]);
  });

  it('one queue per host: a node on another host waits for none on this one', async () => {
    const turns = creationTurns([node(0, 'manager', 'h1'), node(1, 'worker', 'h1'), node(2, 'worker', 'h2')]);
    let secondOnH1 = false;
    void turns.get(1)!.ready.then(() => (secondOnH1 = true));
    await turns.get(2)!.ready;
    await Promise.resolve();
    expect(secondOnH1).toBe(false);
    turns.get(0)!.done();
    await turns.get(1)!.ready;
  });

  it('nodes that exist already, or whose host cannot be reached, take no turn', () => {
    const nodes = [node(0, 'manager', 'h1', 'present'), node(1, 'worker', 'h1', 'unknown'), node(2, 'worker', 'h1')];
    const turns = creationTurns(nodes);
    expect([...turns.keys()]).toEqual([2]);
  });
});
