import { describe, expect, it } from 'vitest';
import { caRotationStatus, type WireNode, type WireSwarm } from '../../../src/swarm/index.js';
import { wireNode } from '../../support/swarm/wire-fixtures.js';

const newTrust = { TrustRoot: 'root-2', CertIssuerSubject: 'subject-2', CertIssuerPublicKey: 'key-2' };

function swarm(rotating: boolean): WireSwarm {
  return { ID: 's', Version: { Index: 9 }, Spec: { Name: 'default' }, TLSInfo: newTrust, RootRotationInProgress: rotating };
}

function renewed(fixture: Parameters<typeof wireNode>[0]): WireNode {
  const node = wireNode(fixture);
  return { ...node, Description: { ...node.Description, TLSInfo: newTrust } };
}

describe('swarm CA rotation convergence', () => {
  it('is done when the cluster is not rotating and every node trusts the new root and holds a certificate from it', () => {
    expect(caRotationStatus(swarm(false), [renewed({ id: 'a' }), renewed({ id: 'b' })])).toEqual({ done: true, inProgress: false, lagging: [] });
  });

  it('is not done while the cluster reports the rotation in progress', () => {
    expect(caRotationStatus(swarm(true), [renewed({ id: 'a' })])).toMatchObject({ done: false, inProgress: true });
  });

  it('names the nodes still on the old root, with their state: a down node holds the rotation up', () => {
    const status = caRotationStatus(swarm(false), [renewed({ id: 'a' }), wireNode({ id: 'b', hostname: 'web-1', state: 'down' })]);
    expect(status).toEqual({ done: false, inProgress: false, lagging: [{ nodeId: 'b', hostname: 'web-1', state: 'down' }] });
  });

  it('counts a node that trusts the new root but still holds an old certificate as lagging', () => {
    const half = renewed({ id: 'a' });
    const stale = { ...half, Description: { ...half.Description, TLSInfo: { ...newTrust, CertIssuerPublicKey: 'key-1' } } };
    expect(caRotationStatus(swarm(false), [stale]).done).toBe(false);
  });
});
