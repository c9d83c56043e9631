import { describe, expect, it } from 'vitest';
import { isSchedulable, toSwarmNode } from '../../../src/swarm/index.js';
import { GIB, node, wireNode } from '../../support/swarm/wire-fixtures.js';

describe('swarm nodes as the controller sees them', () => {
  it('maps the fields of a manager', () => {
    expect(node({ id: 'n1', hostname: 'web-0', role: 'manager', leader: true, addr: '10.213.71.10', cpus: 2, memoryGiB: 4 })).toEqual({
      id: 'n1',
      version: 42,
      hostname: 'web-0',
      role: 'manager',
      availability: 'active',
      state: 'ready',
      managerReachability: 'reachable',
      leader: true,
      addr: '10.213.71.10',
      nanoCpus: 2e9,
      memoryBytes: 4 * GIB,
      engineVersion: '20.10.24+dfsg1',
    });
  });

  it('gives workers no manager reachability and no leadership', () => {
    const worker = node({ id: 'n2' });
    expect(worker.role).toBe('worker');
    expect(worker.managerReachability).toBeUndefined();
    expect(worker.leader).toBe(false);
  });

  it("takes a manager's address from its manager status when dockerd reports 0.0.0.0 (moby#35437)", () => {
    const wire = wireNode({ id: 'n1', role: 'manager', addr: '10.213.71.10' });
    const buggy = { ...wire, Status: { State: 'ready' as const, Addr: '0.0.0.0' } };
    expect(toSwarmNode(buggy).addr).toBe('10.213.71.10');
  });

  it('reads missing fields as their API defaults', () => {
    expect(toSwarmNode({ ID: 'bare' })).toMatchObject({
      id: 'bare',
      role: 'worker',
      availability: 'active',
      state: 'unknown',
      addr: undefined,
      nanoCpus: 0,
      memoryBytes: 0,
    });
  });

  it('counts a node as schedulable only when ready and active', () => {
    expect(isSchedulable(node({ id: 'a' }))).toBe(true);
    expect(isSchedulable(node({ id: 'b', availability: 'drain' }))).toBe(false);
    expect(isSchedulable(node({ id: 'c', availability: 'pause' }))).toBe(false);
    expect(isSchedulable(node({ id: 'd', state: 'down' }))).toBe(false);
  });
});
