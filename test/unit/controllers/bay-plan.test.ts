import { describe, expect, it } from 'vitest';
import type { BayNodeStatus } from '../../../src/api/types.generated.js';
import { planNodes, type DiscoveredNode, type PlanInput } from '../../../src/controllers/bay/plan.js';

const present = (index: number, role: 'manager' | 'worker' = index === 0 ? 'manager' : 'worker', host = 'h1'): DiscoveredNode => ({
  name: `web-abc123-${index}`,
  index,
  role,
  aggregate: 'metal',
  host,
  running: true,
});

const recorded = (index: number, state: BayNodeStatus['state'], role: 'manager' | 'worker' = index === 0 ? 'manager' : 'worker', host = 'h1'): BayNodeStatus => ({
  name: `web-abc123-${index}`,
  index,
  role,
  aggregate: 'metal',
  host,
  state,
});

const input = (over: Partial<PlanInput>): PlanInput => ({ specNodes: 3, specManagers: 1, recorded: [], discovered: [], unreachableHosts: new Set(), ...over });

describe('the node plan of a bay', () => {
  it('plans a new bay as managers first, then workers, with indexes from 0', () => {
    const plan = planNodes(input({ specNodes: 5, specManagers: 3 }));
    expect(plan.nodes.map((n) => [n.index, n.role, n.state])).toEqual([
      [0, 'manager', 'new'],
      [1, 'manager', 'new'],
      [2, 'manager', 'new'],
      [3, 'worker', 'new'],
      [4, 'worker', 'new'],
    ]);
  });

  it('never loses a node when spec.nodes is lowered below what exists', () => {
    const plan = planNodes(input({ specNodes: 2, discovered: [present(0), present(1), present(2), present(3)] }));
    expect(plan.desired).toBe(4);
    expect(plan.nodes.map((n) => n.state)).toEqual(['present', 'present', 'present', 'present']);
  });

  it('grows to the autoscale target when it is above spec.nodes', () => {
    const plan = planNodes(input({ specNodes: 3, autoscaleTarget: 5, discovered: [present(0), present(1), present(2)] }));
    expect(plan.nodes.filter((n) => n.state === 'new').map((n) => n.index)).toEqual([3, 4]);
  });

  it('adopts a node found on its host that status never recorded (a crash after create), instead of creating a twin', () => {
    const plan = planNodes(input({ recorded: [recorded(0, 'Ready')], discovered: [present(0), present(1)] }));
    expect(plan.nodes.map((n) => [n.index, n.state])).toEqual([
      [0, 'present'],
      [1, 'present'],
      [2, 'new'],
    ]);
  });

  it('creates an intended node again under its own index and host when its instance was never made', () => {
    const plan = planNodes(input({ recorded: [recorded(0, 'Ready'), recorded(1, 'Pending', 'worker', 'h2'), recorded(2, 'Provisioning')], discovered: [present(0)] }));
    expect(plan.nodes.map((n) => [n.index, n.state, n.host])).toEqual([
      [0, 'present', 'h1'],
      [1, 'intended', 'h2'],
      [2, 'intended', 'h1'],
    ]);
    expect(plan.lost).toEqual([]);
  });

  it('neither replaces nor forgets nodes on a host that cannot be reached', () => {
    const plan = planNodes(input({ recorded: [recorded(0, 'Ready'), recorded(1, 'Ready', 'worker', 'h2'), recorded(2, 'Ready', 'worker', 'h2')], discovered: [present(0)], unreachableHosts: new Set(['metal/h2']) }));
    expect(plan.nodes.map((n) => [n.index, n.state])).toEqual([
      [0, 'present'],
      [1, 'unknown'],
      [2, 'unknown'],
    ]);
    expect(plan.lost).toEqual([]);
  });

  it('replaces a node confirmed gone with a new index and reports it lost', () => {
    const plan = planNodes(input({ recorded: [recorded(0, 'Ready'), recorded(1, 'Ready'), recorded(2, 'Ready')], discovered: [present(0), present(2)] }));
    expect(plan.lost.map((n) => n.index)).toEqual([1]);
    expect(plan.nodes.map((n) => [n.index, n.state])).toEqual([
      [0, 'present'],
      [2, 'present'],
      [3, 'new'],
    ]);
  });

  it('replaces a lost manager with a manager', () => {
    const plan = planNodes(input({ specManagers: 1, recorded: [recorded(0, 'Ready'), recorded(1, 'Ready')], discovered: [present(1)] }));
    expect(plan.nodes.find((n) => n.state === 'new')).toMatchObject({ index: 2, role: 'manager' });
  });

  it('asks for promotions when managers are raised without new nodes', () => {
    const plan = planNodes(input({ specNodes: 3, specManagers: 3, discovered: [present(0), present(1), present(2)] }));
    expect(plan.promotions).toBe(2);
    expect(plan.nodes.every((n) => n.state === 'present')).toBe(true);
  });

  it('never reuses the index of a node that may still exist', () => {
    const plan = planNodes(input({ specNodes: 3, recorded: [recorded(7, 'Ready', 'manager', 'h2')], discovered: [present(0, 'manager')], unreachableHosts: new Set(['metal/h2']) }));
    expect(plan.nodes.filter((n) => n.state === 'new').map((n) => n.index)).toEqual([8]);
  });
});
