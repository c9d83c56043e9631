import { describe, expect, it } from 'vitest';
import { HostInventory } from '../../../src/controllers/hosts/inventory.js';
import { HostUnreachableError, type HostObservation, type HostProvider } from '../../../src/hosts/index.js';
import { testCapacity, testNode } from '../../support/builders.js';

/** A provider whose observe() answers what the test says, counting calls. */
function observedHost(answers: Array<HostObservation | Error>): HostProvider & { calls: number } {
  const host = {
    name: 'h1',
    calls: 0,
    async observe(): Promise<HostObservation> {
      const next = answers[Math.min(host.calls, answers.length - 1)]!;
      host.calls += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (next instanceof Error) throw next;
      return next;
    },
  };
  return host as unknown as HostProvider & { calls: number };
}

const observation = (...nodes: ReturnType<typeof testNode>[]): HostObservation => ({ capacity: testCapacity(), nodes });

describe('the host inventory: each host observed once, shared by every bay', () => {
  it('answers concurrent readers with one observation, and again from memory while it is fresh', async () => {
    let now = 0;
    const inventory = new HostInventory(undefined, () => now);
    const host = observedHost([observation(testNode('web-0'))]);
    const views = await Promise.all([1, 2, 3].map(() => inventory.observe('h1', host, 30_000)));
    expect(host.calls).toBe(1);
    expect(views.every((v) => v === views[0])).toBe(true);
    now = 20_000;
    await inventory.observe('h1', host, 30_000);
    expect(host.calls).toBe(1);
    now = 40_000;
    await inventory.observe('h1', host, 30_000);
    expect(host.calls).toBe(2);
  });

  it('wakes exactly the bays whose nodes changed between two observations', async () => {
    const woken: string[][] = [];
    const inventory = new HostInventory((uids) => woken.push([...uids].sort()));
    const a0 = testNode('a-0', { owner: { bayUid: 'A' } });
    const b0 = testNode('b-0', { owner: { bayUid: 'B' }, ipv4Address: '10.0.0.11' });
    const c0 = testNode('c-0', { owner: { bayUid: 'C' }, ipv4Address: '10.0.0.12' });
    const host = observedHost([observation(a0, b0, c0), observation(a0, { ...b0, status: 'stopped' }), observation(a0, { ...b0, status: 'stopped' })]);
    await inventory.observe('h1', host, 0);
    expect(woken).toEqual([]); // the first look tells no bay anything new
    await inventory.observe('h1', host, 0);
    expect(woken).toEqual([['B', 'C']]); // b-0 stopped, c-0 gone; a-0 unchanged
    await inventory.observe('h1', host, 0);
    expect(woken).toHaveLength(1);
  });

  it('records an unreachable host as such, and wakes its bays when it goes away and when it comes back', async () => {
    const woken: string[][] = [];
    const inventory = new HostInventory((uids) => woken.push([...uids]));
    const unreachable = new HostUnreachableError({ host: 'h1', operation: 'observe' }, 'connection refused');
    const host = observedHost([observation(testNode('a-0', { owner: { bayUid: 'A' } })), unreachable, observation(testNode('a-0', { owner: { bayUid: 'A' } }))]);
    await inventory.observe('h1', host, 0);
    const away = await inventory.observe('h1', host, 0);
    expect(away.ok).toBe(false);
    expect(woken).toEqual([['A']]);
    await inventory.observe('h1', host, 0);
    expect(woken).toEqual([['A'], ['A']]);
  });

  it('keeps a host that answered through failed observations within the grace, and calls it away after', async () => {
    let now = 0;
    const woken: string[][] = [];
    const inventory = new HostInventory((uids) => woken.push([...uids]), () => now, 10_000);
    const failing = new HostUnreachableError({ host: 'h1', operation: 'observe' }, 'connection reset');
    const host = observedHost([observation(testNode('a-0', { owner: { bayUid: 'A' } })), failing]);
    const good = await inventory.observe('h1', host, 0);
    now = 5_000;
    expect(await inventory.observe('h1', host, 0)).toBe(good);
    now = 9_999;
    expect((await inventory.observe('h1', host, 0)).ok).toBe(true);
    expect(woken).toEqual([]);
    now = 10_000;
    expect((await inventory.observe('h1', host, 0)).ok).toBe(false);
    expect(woken).toEqual([['A']]);
  });

  it('counts a node marina just created in the host allocation at once, and not twice', async () => {
    const inventory = new HostInventory();
    await inventory.observe('h1', observedHost([observation()]), 0);
    const created = testNode('web-1', { limits: { cpu: 2, memoryBytes: 2 ** 30 } });
    inventory.noteNode('h1', created);
    inventory.noteNode('h1', { ...created, ipv4Address: '10.0.0.20' });
    const view = inventory.view('h1');
    expect(view?.ok && view.capacity.allocated.cpu).toBe(2);
    expect(view?.ok && view.nodes.get('web-1')?.ipv4Address).toBe('10.0.0.20');
    inventory.dropNode('h1', 'web-1');
    const after = inventory.view('h1');
    expect(after?.ok && [after.capacity.allocated.cpu, after.nodes.size]).toEqual([0, 0]);
  });
});
