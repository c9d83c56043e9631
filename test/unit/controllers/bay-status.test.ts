import { describe, expect, it } from 'vitest';
import type { Bay } from '../../../src/api/types.generated.js';
import { computeBayStatus, recordLoss, type BayFacts, type NodeFact } from '../../../src/controllers/bay/status.js';
import type { SwarmNode } from '../../../src/swarm/index.js';
import { memberCountsReady } from '../../../src/controllers/bay/facts.js';

const now = new Date('2026-11-21T10:00:00Z');

function bay(over: Partial<Bay['status']> = {}, spec: Partial<Bay['spec']> = {}): Bay {
  return {
    apiVersion: 'marina.dev/v1alpha1',
    kind: 'Bay',
    metadata: { name: 'web', namespace: 'team-a', uid: 'u1', generation: 2 },
    spec: { coe: 'swarm', managers: 1, nodes: 2, flavor: { cpu: 2, memory: '4Gi', disk: '20Gi' }, tls: { certificateValidity: '2160h', renewBefore: '720h', caOverlap: '24h' }, deletionPolicy: 'Delete', upgradePolicy: 'Manual', ...spec },
    ...(Object.keys(over).length ? { status: over } : {}),
  };
}

const node = (index: number, over: Partial<NodeFact> = {}): NodeFact => ({ name: `web-abc-${index}`, index, role: index === 0 ? 'manager' : 'worker', aggregate: 'metal', host: 'h1', state: 'Ready', ready: true, address: `10.0.0.${index + 10}`, ...over });

const member = (n: NodeFact): SwarmNode => ({ id: `id${n.index}`, version: 1, hostname: n.name, role: n.role, availability: 'active', state: 'ready', managerReachability: n.role === 'manager' ? 'reachable' : undefined, leader: n.index === 0, addr: n.address, nanoCpus: 2e9, memoryBytes: 4e9, engineVersion: '20.10' });

function facts(nodes: NodeFact[], over: Partial<BayFacts> = {}): BayFacts {
  const anchor = nodes[0];
  return {
    certificates: { ok: true, caNotAfter: new Date('2029-01-01T00:00:00Z'), operatorNotAfter: new Date('2027-03-01T00:00:00Z') },
    desired: 2,
    nodes,
    unschedulable: [],
    unreachable: new Map(),
    ...(anchor
      ? { swarm: { anchor: { name: anchor.name, index: 0, role: 'manager' as const, address: anchor.address! }, members: new Map(nodes.map((n) => [n.name, member(n)])), removed: [], joined: [], initialised: false, problems: [] } }
      : {}),
    endpoint: 'tcp://10.0.0.10:2376',
    credentials: { secretName: 'web-credentials', clientNotAfter: new Date('2027-01-01T00:00:00Z') },
    ...over,
  };
}

const conditions = (b: Bay, f: BayFacts) => Object.fromEntries((computeBayStatus(b, f, now).conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}`]));

describe('kstatus conventions', () => {
  it('a bay still being built is Reconciling; one only a person can unblock is Stalled, not Reconciling', () => {
    const building = computeBayStatus(bay(), facts([node(0), node(1, { state: 'Provisioning', ready: false })]), now);
    const conditionOf = (s: typeof building, type: string) => s.conditions?.find((c) => c.type === type);
    expect(conditionOf(building, 'Reconciling')).toMatchObject({ status: 'True' });
    expect(conditionOf(building, 'Stalled')).toMatchObject({ status: 'False' });
    const conflict = { phase: 'credentials' as const, kind: 'terminal' as const, reason: 'SecretConflict' as const, message: 'Secret team-a/web-credentials exists', cause: undefined };
    const stuck = computeBayStatus(bay(), facts([node(0), node(1)], { credentials: undefined, credentialsFailure: conflict }), now);
    expect(conditionOf(stuck, 'Stalled')).toMatchObject({ status: 'True', reason: 'SecretConflict', message: expect.stringContaining('web-credentials') });
    expect(conditionOf(stuck, 'Reconciling')).toMatchObject({ status: 'False' });
  });
});

describe('the status of a bay, computed from facts in one place', () => {
  it('is Ready with every condition True (and kstatus\' Reconciling and Stalled False) when nodes, swarm and credentials are all there', () => {
    const status = computeBayStatus(bay(), facts([node(0), node(1)]), now);
    expect(status.phase).toBe('Ready');
    expect(status.conditions?.map((c) => c.type)).toEqual(['Ready', 'CertificatesReady', 'NodesReady', 'SwarmReady', 'Reconciling', 'Stalled']);
    const positive = status.conditions!.slice(0, 4);
    expect(positive.every((c) => c.status === 'True' && c.observedGeneration === 2)).toBe(true);
    expect(status.conditions!.slice(4).map((c) => c.status)).toEqual(['False', 'False']);
    expect(status.readyNodes).toBe(2);
    expect(status.observedGeneration).toBe(2);
  });

  it('is Provisioning, not Degraded, while a new bay’s first nodes are being built', () => {
    const f = facts([node(0, { state: 'Provisioning', ready: false }), node(1, { state: 'Pending', ready: false })], { swarm: undefined, endpoint: undefined, credentials: undefined });
    expect(computeBayStatus(bay(), f, now).phase).toBe('Provisioning');
    expect(conditions(bay(), f).NodesReady).toBe('False Provisioning');
  });

  it('is Growing while added nodes are provisioned on a bay that was Ready', () => {
    const f = facts([node(0), node(1), node(2, { state: 'Provisioning', ready: false })], { desired: 3 });
    expect(computeBayStatus(bay({ endpoint: 'tcp://10.0.0.10:2376', phase: 'Ready' }), f, now).phase).toBe('Growing');
  });

  it('is Degraded when a node is lost, naming it in NodesReady', () => {
    const lost = node(1, { state: 'Lost', ready: false, problem: 'its instance is gone from its host; a replacement takes its place' });
    const f = facts([node(0), node(2, { state: 'Provisioning', ready: false }), lost]);
    const status = computeBayStatus(bay({ endpoint: 'tcp://10.0.0.10:2376', phase: 'Ready' }), f, now);
    expect(status.phase).toBe('Degraded');
    expect(status.conditions?.find((c) => c.type === 'NodesReady')?.message).toContain('web-abc-1: its instance is gone');
  });

  it('says which host cannot be reached, and stays Degraded rather than replacing its nodes', () => {
    const unknown = node(1, { state: 'Lost', ready: false, problem: 'host cannot be reached (connection refused); the node is kept, not replaced' });
    const f = facts([node(0), unknown], { unreachable: new Map([['metal/h1', 'connection refused']]) });
    const b = bay({ endpoint: 'tcp://10.0.0.10:2376', phase: 'Ready' });
    expect(computeBayStatus(b, f, now).phase).toBe('Degraded');
    expect(conditions(b, f).NodesReady).toBe('False HostUnreachable');
    expect(conditions(b, f).Ready).toBe('False HostUnreachable');
  });

  it('reports a bay that fits nowhere with every host’s reason, never silently', () => {
    const f = facts([], { swarm: undefined, endpoint: undefined, credentials: undefined, unschedulable: [{ index: 0, role: 'manager', rejections: [{ aggregate: 'metal', host: 'h1', reason: 'InsufficientMemory', message: 'needs 4Gi memory, 1Gi of 8Gi are free' }] }] });
    const status = computeBayStatus(bay(), f, now);
    const ready = status.conditions?.find((c) => c.type === 'Ready');
    expect(ready?.reason).toBe('Unschedulable');
    expect(ready?.message).toContain('metal/h1: InsufficientMemory (needs 4Gi memory, 1Gi of 8Gi are free)');
  });

  it('keeps lastTransitionTime when a condition keeps its status, and moves it when the status flips', () => {
    const first = computeBayStatus(bay(), facts([node(0), node(1)]), now);
    const later = new Date(now.getTime() + 60_000);
    const same = computeBayStatus(bay(first), facts([node(0), node(1)]), later);
    expect(same.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-11-21T10:00:00Z');
    const flipped = computeBayStatus(bay(first), facts([node(0), node(1, { ready: false, state: 'Running', problem: 'not a swarm member yet' })]), later);
    expect(flipped.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime).toBe('2026-11-21T10:01:00Z');
  });

  it('is not Ready until swarm has the declared number of managers', () => {
    const f = facts([node(0), node(1), node(2, { role: 'manager' })], { desired: 3 });
    const members = new Map([...f.swarm!.members].map(([k, m]) => [k, m.hostname === 'web-abc-2' ? { ...m, role: 'worker' as const, managerReachability: undefined } : m]));
    const status = computeBayStatus(bay({}, { nodes: 3, managers: 3 }), { ...f, swarm: { ...f.swarm!, members } }, now);
    expect(status.conditions?.find((c) => c.type === 'SwarmReady')?.reason).toBe('SwarmForming');
  });

  it('shows Degraded the moment a node is found lost, before its replacement is built', () => {
    const ready = computeBayStatus(bay(), facts([node(0), node(1)]), now);
    const lost = { name: 'web-abc-1', index: 1, role: 'worker' as const, host: 'h1', state: 'Ready' as const };
    const status = recordLoss(bay(ready), ready, [lost], now);
    expect(status.phase).toBe('Degraded');
    const byType = Object.fromEntries(status.conditions!.map((c) => [c.type, c]));
    expect(byType.Ready).toMatchObject({ status: 'False', reason: 'NodeLost', message: 'node web-abc-1 is gone from host h1; replacing it' });
    expect(byType.NodesReady?.reason).toBe('NodeLost');
    expect(byType.SwarmReady?.status).toBe('True');
  });

  it('stays Ready through a swarm leader change, when the new leader has not yet heard from its members', () => {
    const f = facts([node(0), node(1)]);
    const unheard = new Map([...f.swarm!.members].map(([k, m]) => [k, { ...m, state: 'unknown' as const }]));
    const status = computeBayStatus(bay(), { ...f, swarm: { ...f.swarm!, members: unheard } }, now);
    expect(status.phase).toBe('Ready');
    expect(status.conditions?.find((c) => c.type === 'SwarmReady')?.status).toBe('True');
  });

  it('counts an unknown member as ready only if its node was Ready; a down one never', () => {
    const wasReady = { name: 'web-abc-1', index: 1, role: 'worker' as const, state: 'Ready' as const, ready: true };
    expect(memberCountsReady({ state: 'unknown' }, wasReady)).toBe(true);
    expect(memberCountsReady({ state: 'unknown' }, { ...wasReady, state: 'Running', ready: false })).toBe(false);
    expect(memberCountsReady({ state: 'unknown' }, undefined)).toBe(false);
    expect(memberCountsReady({ state: 'down' }, wasReady)).toBe(false);
    expect(memberCountsReady({ state: 'ready' }, undefined)).toBe(true);
    expect(memberCountsReady(undefined, wasReady)).toBe(false);
  });

  it('says why the credentials could not be published, and stays Provisioning until they are', () => {
    const failure = { phase: 'credentials' as const, kind: 'transient' as const, reason: 'ApiError' as const, message: 'the Kubernetes API did not answer PATCH /x; retrying', cause: undefined };
    const f = facts([node(0), node(1)], { credentials: undefined, credentialsFailure: failure });
    const status = computeBayStatus(bay({ endpoint: 'tcp://10.0.0.10:2376', phase: 'Provisioning' }), f, now);
    expect(status.phase).toBe('Provisioning');
    expect(status.conditions?.find((c) => c.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ApiError', message: 'the credentials bundle could not be published: the Kubernetes API did not answer PATCH /x; retrying' });
  });

  it('never puts a key in status: only expiries', () => {
    const text = JSON.stringify(computeBayStatus(bay(), facts([node(0), node(1)]), now));
    expect(text).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
    expect(text).toContain('"caNotAfter":"2029-01-01T00:00:00Z"');
  });
});

describe('a node being replaced (its host evacuated)', () => {
  const replacement = { node: 'web-abc-1', host: 'h1', why: 'its host h1 is being evacuated' };
  const leaving = node(1, { leaving: true, problem: 'to be replaced: its host h1 is being evacuated' });

  it('the bay stays Ready while the replacement joins (the old node serves meanwhile), phase Replacing', () => {
    const joining = node(2, { state: 'Running', ready: false, replaces: 'web-abc-1' });
    const status = computeBayStatus(bay(), facts([node(0), leaving, joining], { replacement }), now);
    expect(status.phase).toBe('Replacing');
    expect(status.readyNodes).toBe(2);
    const c = conditions(bay(), facts([node(0), leaving, joining], { replacement }));
    expect(c).toMatchObject({ Ready: 'True BayReady', NodesReady: 'True AllNodesReady', NodesReplaced: 'False Replacing' });
    expect(status.nodes?.find((n) => n.index === 2)?.replaces).toBe('web-abc-1');
  });

  it('pauses with a reason when its replacement fits on no host, still Ready', () => {
    const unschedulable = [{ index: 2, role: 'worker' as const, rejections: [{ aggregate: 'metal', host: 'h2', reason: 'HostCordoned', message: 'cordoned' }] }];
    const c = conditions(bay(), facts([node(0), leaving], { replacement, unschedulable }));
    expect(c).toMatchObject({ Ready: 'True BayReady', NodesReplaced: 'False ReplacementPaused' });
  });

  it('a node lost meanwhile is not hidden by the replacement: NodesReady says so', () => {
    const lost = node(0, { state: 'Lost', ready: false, problem: 'gone' });
    const joining = node(2, { replaces: 'web-abc-1' });
    const c = conditions(bay(), facts([lost, leaving, joining], { replacement }));
    expect(c.NodesReady).not.toMatch(/^True/);
  });

  it('once none is left, NodesReplaced turns True and the bay is Ready again', () => {
    const before = bay({ conditions: [{ type: 'NodesReplaced', status: 'False', reason: 'Replacing', message: 'm', lastTransitionTime: '2026-11-21T09:00:00Z', observedGeneration: 2 }] });
    const status = computeBayStatus(before, facts([node(0), node(2)]), now);
    expect(status.phase).toBe('Ready');
    expect(status.conditions?.find((c) => c.type === 'NodesReplaced')).toMatchObject({ status: 'True', reason: 'AllReplaced' });
  });
});
