import { describe, expect, it } from 'vitest';
import { sharesManager, toLocalSwarmState, withSwarmPort } from '../../../src/swarm/index.js';

describe("a daemon's own view of its swarm membership", () => {
  it('reads an inactive daemon', () => {
    expect(toLocalSwarmState({ NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null })).toEqual({
      state: 'inactive',
      nodeId: undefined,
      nodeAddr: undefined,
      isManager: false,
      clusterId: undefined,
      remoteManagers: [],
      error: undefined,
    });
  });

  it('reads a manager with its cluster', () => {
    const state = toLocalSwarmState({
      NodeID: 'n1',
      NodeAddr: '10.213.71.10',
      LocalNodeState: 'active',
      ControlAvailable: true,
      RemoteManagers: [{ NodeID: 'n1', Addr: '10.213.71.10:2377' }],
      Cluster: { ID: 'c1' },
    });
    expect(state).toMatchObject({ state: 'active', nodeId: 'n1', isManager: true, clusterId: 'c1', remoteManagers: ['10.213.71.10:2377'] });
  });

  it('treats an answer without swarm section as inactive', () => {
    expect(toLocalSwarmState(undefined).state).toBe('inactive');
  });
});

describe('recognising the swarm a node belongs to', () => {
  const worker = toLocalSwarmState({ NodeID: 'w', LocalNodeState: 'active', RemoteManagers: [{ NodeID: 'm', Addr: '10.213.71.10:2377' }] });

  it('by a manager address it shares with the join request, with or without port', () => {
    expect(sharesManager(worker, ['10.213.71.10'])).toBe(true);
    expect(sharesManager(worker, ['10.213.71.99:2377', '10.213.71.10:2377'])).toBe(true);
  });

  it('not when its managers are others', () => {
    expect(sharesManager(worker, ['10.213.71.11'])).toBe(false);
  });
});

describe('swarm addresses', () => {
  it('add the cluster port 2377 when none is given', () => {
    expect(withSwarmPort('10.0.0.5')).toBe('10.0.0.5:2377');
    expect(withSwarmPort('10.0.0.5:4000')).toBe('10.0.0.5:4000');
    expect(withSwarmPort('fd42::5')).toBe('[fd42::5]:2377');
    expect(withSwarmPort('[fd42::5]:2377')).toBe('[fd42::5]:2377');
  });
});
