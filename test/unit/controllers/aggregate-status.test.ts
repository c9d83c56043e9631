import { describe, expect, it } from 'vitest';
import type { ProbedHost } from '../../../src/controllers/aggregate/probe.js';
import { aggregateStatus, hostsChanged } from '../../../src/controllers/aggregate/status.js';
import { mergePatch } from '../../../src/runtime/json.js';
import { testAggregate } from '../../support/builders.js';

const t0 = new Date('2026-12-01T10:00:00Z');
const later = new Date('2026-12-01T10:05:00Z');
const ready: ProbedHost = { name: 'h1', ready: true, reason: 'Ready', message: 'ok', server: 'lxd 5.0.2', imagePresent: true, capacity: { cpu: 8, memory: '32Gi' }, allocated: { cpu: 2, memory: '1Gi' }, nodes: 2 };

describe('an aggregate’s status is written only when something in it changed', () => {
  it('a probe that finds the same as before produces the same status: nothing to write', () => {
    const first = aggregateStatus(testAggregate(), [ready], t0);
    const second = aggregateStatus(testAggregate('metal', {}, first), [ready], later);
    expect(mergePatch(first, second)).toBeUndefined();
  });

  it('a host that goes away moves its transition time and the Ready condition', () => {
    const first = aggregateStatus(testAggregate(), [ready], t0);
    const gone = aggregateStatus(testAggregate('metal', {}, first), [{ name: 'h1', ready: false, reason: 'Unreachable', message: 'connection refused' }], later);
    expect(gone.hosts?.[0]?.lastTransitionTime).toBe('2026-12-01T10:05:00Z');
    expect(gone.conditions?.[0]).toMatchObject({ status: 'False', reason: 'HostsNotReady' });
  });

  it('tells bays about readiness and room, not about anything else', () => {
    const first = aggregateStatus(testAggregate(), [ready], t0);
    expect(hostsChanged(first, aggregateStatus(testAggregate('metal', {}, first), [{ ...ready, allocated: { cpu: 3, memory: '2Gi' }, nodes: 3 }], later))).toBe(true);
    expect(hostsChanged(first, { ...first, observedGeneration: 7 })).toBe(false);
  });
});
