import { describe, expect, it } from 'vitest';
import {
  isValidManagerCount,
  managerCountProblem,
  managersToTolerate,
  nextManagerToPromote,
  quorumSize,
  quorumStatus,
  takeDownVerdict,
} from '../../../src/swarm/index.js';
import { node } from '../../support/swarm/wire-fixtures.js';

describe('raft quorum arithmetic', () => {
  it.each([
    [1, 1, 0],
    [2, 2, 0],
    [3, 2, 1],
    [4, 3, 1],
    [5, 3, 2],
    [6, 4, 2],
    [7, 4, 3],
  ])('%i managers need %i reachable and tolerate %i lost', (managers, quorum, tolerated) => {
    expect(quorumSize(managers)).toBe(quorum);
    expect(managersToTolerate(managers)).toBe(tolerated);
  });

  it('allows 1, 3, 5 or 7 managers only', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter(isValidManagerCount)).toEqual([1, 3, 5, 7]);
  });
});

describe('quorum of a live swarm', () => {
  const managers = (reachability: Array<'reachable' | 'unreachable'>) =>
    reachability.map((r, i) => node({ id: `m${i}`, hostname: `m${i}`, role: 'manager', reachability: r, leader: i === 0 && r === 'reachable' }));

  it('counts reachable managers against the majority', () => {
    expect(quorumStatus([...managers(['reachable', 'reachable', 'unreachable']), node({ id: 'w' })])).toEqual({
      managers: 3,
      reachable: 2,
      quorum: 2,
      hasQuorum: true,
      leaderId: 'm0',
    });
    expect(quorumStatus(managers(['reachable', 'unreachable', 'unreachable'])).hasQuorum).toBe(false);
  });

  it('lets a worker be taken down at any time', () => {
    expect(takeDownVerdict([...managers(['reachable']), node({ id: 'w' })], 'w')).toBe('safe');
  });

  it('lets one of three healthy managers be taken down', () => {
    expect(takeDownVerdict(managers(['reachable', 'reachable', 'reachable']), 'm1')).toBe('safe');
  });

  it('keeps the next manager up while another one is still unreachable', () => {
    expect(takeDownVerdict(managers(['reachable', 'reachable', 'unreachable']), 'm1')).toBe('wait');
  });

  it('may take down the unreachable manager itself: the reachable two keep quorum', () => {
    expect(takeDownVerdict(managers(['reachable', 'reachable', 'unreachable']), 'm2')).toBe('safe');
  });

  it('waits while the swarm has no leader', () => {
    const leaderless = managers(['reachable', 'reachable', 'reachable']).map((m) => ({ ...m, leader: false }));
    expect(takeDownVerdict(leaderless, 'm1')).toBe('wait');
  });

  it('calls restarting the only manager a brief outage: quorum cannot be kept, waiting will not help', () => {
    expect(takeDownVerdict(managers(['reachable']), 'm0')).toBe('brief-outage');
  });
});

describe('desired manager counts', () => {
  const swarm = [
    node({ id: 'm0', hostname: 'web-0', role: 'manager', leader: true }),
    node({ id: 'w2', hostname: 'web-2' }),
    node({ id: 'w1', hostname: 'web-1' }),
    node({ id: 'w3', hostname: 'web-3', availability: 'drain' }),
  ];

  it('accepts growing from one manager to three on four nodes', () => {
    expect(managerCountProblem(3, swarm)).toBeUndefined();
  });

  it('refuses even counts, fewer managers than today, and more managers than nodes', () => {
    expect(managerCountProblem(2, swarm)).toMatch(/one of 1, 3, 5, 7/);
    expect(managerCountProblem(1, [...swarm, node({ id: 'm9', role: 'manager' }), node({ id: 'm8', role: 'manager' })])).toMatch(/never reduces/);
    expect(managerCountProblem(5, swarm)).toMatch(/at least 5 nodes/);
  });

  it('promotes schedulable workers one at a time, in hostname order', () => {
    expect(nextManagerToPromote(swarm, 3)?.id).toBe('w1');
    expect(nextManagerToPromote(swarm, 1)).toBeUndefined();
  });

  it('does not promote a drained worker', () => {
    const onlyDrained = [swarm[0]!, swarm[3]!];
    expect(nextManagerToPromote(onlyDrained, 3)).toBeUndefined();
  });
});
