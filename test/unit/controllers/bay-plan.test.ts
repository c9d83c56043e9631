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

  describe('a node being replaced (its host evacuated)', () => {
    const all = [present(0, 'manager'), present(1, 'manager'), present(2, 'manager'), present(3), present(4)];

    it('stays, and a replacement of its role is planned beside it: one more node, never one fewer', () => {
      const plan = planNodes(input({ specNodes: 5, specManagers: 3, discovered: all, leaving: new Set(['web-abc123-1']) }));
      expect(plan.desired).toBe(5);
      expect(plan.nodes.map((n) => [n.index, n.role, n.state, n.leaving ?? false])).toEqual([
        [0, 'manager', 'present', false],
        [1, 'manager', 'present', true],
        [2, 'manager', 'present', false],
        [3, 'worker', 'present', false],
        [4, 'worker', 'present', false],
        [5, 'manager', 'new', false],
      ]);
      expect(plan.nodes.at(-1)?.replaces).toBe('web-abc123-1');
    });

    it('a worker is replaced by a worker', () => {
      const plan = planNodes(input({ specNodes: 5, specManagers: 3, discovered: all, leaving: new Set(['web-abc123-3']) }));
      expect(plan.nodes.filter((n) => n.state === 'new').map((n) => [n.index, n.role])).toEqual([[5, 'worker']]);
    });

    it('once retired (recorded Retiring, instance gone) it is neither lost nor replaced again', () => {
      const plan = planNodes(
        input({
          specNodes: 5,
          specManagers: 3,
          discovered: all.filter((d) => d.index !== 3).concat(present(5)),
          recorded: [recorded(3, 'Retiring')],
        }),
      );
      expect(plan.lost).toEqual([]);
      expect(plan.nodes.map((n) => n.index)).toEqual([0, 1, 2, 4, 5]);
    });

    it('a bay grown past its spec keeps its size while a node is replaced: it never shrinks', () => {
      const plan = planNodes(input({ specNodes: 3, discovered: all, leaving: new Set(['web-abc123-4']) }));
      expect(plan.desired).toBe(5);
      expect(plan.nodes.filter((n) => n.state === 'new').map((n) => [n.index, n.replaces])).toEqual([[5, 'web-abc123-4']]);
    });

    it('once its replacement is recorded, no second one is planned', () => {
      const replacement = { ...recorded(5, 'Pending'), replaces: 'web-abc123-4' };
      const plan = planNodes(
        input({ specNodes: 5, specManagers: 3, discovered: all, recorded: [replacement], leaving: new Set(['web-abc123-4']) }),
      );
      expect(plan.desired).toBe(5);
      expect(plan.nodes.map((n) => [n.index, n.state])).toContainEqual([5, 'intended']);
      expect(plan.nodes.filter((n) => n.state === 'new')).toEqual([]);
    });
  });
});
