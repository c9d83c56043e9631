import { describe, expect, it } from 'vitest';
import { chooseNextNode, rolloutCandidates, type RolloutCandidate } from '../../../src/controllers/bay/rollout.js';
import type { SwarmNode } from '../../../src/swarm/index.js';

const member = (hostname: string, role: 'manager' | 'worker', over: Partial<SwarmNode> = {}): SwarmNode => ({
  id: `id-${hostname}`,
  version: 1,
  hostname,
  role,
  availability: 'active',
  state: 'ready',
  managerReachability: role === 'manager' ? 'reachable' : undefined,
  leader: hostname === 'n0',
  addr: undefined,
  nanoCpus: 1e9,
  memoryBytes: 1e9,
  engineVersion: '20.10',
  ...over,
});

const candidate = (index: number, role: 'manager' | 'worker', over: Partial<RolloutCandidate> = {}): RolloutCandidate => ({
  name: `n${index}`,
  index,
  role,
  address: `10.0.0.${index}`,
  cause: 'requested',
  draining: false,
  ...over,
});

const names = new Set(['n0', 'n1', 'n2', 'n3', 'n4']);

describe('rollout order', () => {
  it('workers go first, by index', () => {
    const members = [member('n0', 'manager'), member('n1', 'worker'), member('n2', 'worker')];
    expect(chooseNextNode([candidate(0, 'manager'), candidate(2, 'worker'), candidate(1, 'worker')], members, names)).toEqual({ next: candidate(1, 'worker') });
  });

  it('a node left draining by an unfinished restart is finished first', () => {
    const members = [member('n0', 'manager'), member('n1', 'worker'), member('n2', 'worker', { availability: 'drain' })];
    const draining = candidate(2, 'worker', { draining: true });
    expect(chooseNextNode([candidate(1, 'worker'), draining], members, names)).toEqual({ next: draining });
  });

  it('nothing restarts while another member is not ready and active again', () => {
    const members = [member('n0', 'manager'), member('n1', 'worker', { state: 'down' }), member('n2', 'worker')];
    expect(chooseNextNode([candidate(2, 'worker')], members, names)).toMatchObject({ wait: expect.stringContaining('n1') });
  });

  it('with three managers, one manager at a time and only while the other two are reachable', () => {
    const three = [member('n0', 'manager'), member('n1', 'manager', { leader: false }), member('n2', 'manager', { leader: false })];
    const managers = [candidate(0, 'manager'), candidate(1, 'manager'), candidate(2, 'manager')];
    expect(chooseNextNode(managers, three, names)).toEqual({ next: candidate(0, 'manager') });
    const oneAway = [member('n0', 'manager'), member('n1', 'manager', { leader: false, managerReachability: 'unreachable' }), member('n2', 'manager', { leader: false })];
    expect(chooseNextNode([candidate(0, 'manager'), candidate(2, 'manager')], oneAway, new Set(['n0', 'n2']))).toMatchObject({ wait: expect.any(String) });
  });

  it('a lone manager is restarted last, once it is all that is left', () => {
    const members = [member('n0', 'manager'), member('n1', 'worker')];
    expect(chooseNextNode([candidate(0, 'manager'), candidate(1, 'worker')], members, names)).toEqual({ next: candidate(1, 'worker') });
    expect(chooseNextNode([candidate(0, 'manager')], members, names)).toEqual({ next: candidate(0, 'manager') });
  });

  it('a node to repair (not answering) does not hold the rollout up as an unready member', () => {
    const members = [member('n0', 'manager'), member('n1', 'worker', { state: 'down' })];
    const repair = candidate(1, 'worker', { cause: 'repair' });
    expect(chooseNextNode([repair], members, names)).toEqual({ next: repair });
  });
});

describe('which nodes the rollout restarts', () => {
  it('a node whose swarm member is down while it was Ready is repaired; one that serves an expired certificate says so', () => {
    const pki = { ca: { certPem: '' }, policy: { validityMs: 1, renewBeforeMs: 0, caOverlapMs: 0 } } as never;
    const now = new Date('2027-01-01T00:00:00Z');
    const ok = (notAfter: string) => ({ ok: true as const, address: '10.0.0.1', tls: { generation: 'g', serial: 's', notAfter: new Date(notAfter) }, created: false, drift: [], repaired: [] });
    const recorded = { name: 'n1', index: 1, role: 'worker' as const, state: 'Ready' as const };
    const down = rolloutCandidates([{ name: 'n1', index: 1, role: 'worker', recorded, outcome: ok('2027-06-01T00:00:00Z'), memberDown: true }], pki, () => undefined, { now });
    expect(down).toEqual([expect.objectContaining({ name: 'n1', cause: 'repair' })]);
    // No stored leaf: it must be issued; the one it serves expired yesterday.
    const expired = rolloutCandidates([{ name: 'n1', index: 1, role: 'worker', recorded, outcome: ok('2026-12-31T00:00:00Z'), memberDown: false }], pki, () => undefined, { now });
    expect(expired).toEqual([expect.objectContaining({ cause: 'missing', expired: true })]);
  });
});
