import { describe, expect, it } from 'vitest';
import type { BayNodeStatus } from '../../../src/api/types.generated.js';
import {
  autoscaleCap,
  describeQuota,
  holdBackForQuota,
  NodeQuotaLedger,
  nodeQuotaOf,
  quotaRoom,
} from '../../../src/controllers/bay/quota.js';
import type { NamespaceObject } from '../../../src/controllers/kinds.js';
import { testBay } from '../../support/builders.js';

const namespace = (maxNodes?: string): NamespaceObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: {
    name: 'team-x',
    ...(maxNodes === undefined ? {} : { annotations: { 'marina.dev/max-nodes': maxNodes } }),
  },
});

const recorded = (...states: BayNodeStatus['state'][]): BayNodeStatus[] =>
  states.map((state, index) => ({ name: `n${index}`, index, role: 'worker', state, ready: state === 'Ready' }));

const self = testBay({ name: 'web', namespace: 'team-x', uid: 'u-web' });
const other = testBay({
  name: 'db',
  namespace: 'team-x',
  uid: 'u-db',
  status: { nodes: recorded('Ready', 'Ready', 'Lost') },
});

describe("a namespace's node quota", () => {
  it('does not exist without the annotation: room is unlimited', () => {
    expect(nodeQuotaOf(namespace(), self, [self, other], new NodeQuotaLedger())).toBeUndefined();
    expect(quotaRoom(undefined, 5)).toBe(Infinity);
  });

  it("counts every node of the namespace's other bays but the lost ones", () => {
    const quota = nodeQuotaOf(namespace('5'), self, [self, other], new NodeQuotaLedger())!;
    expect(quota).toMatchObject({ limit: 5, usedByOthers: 2 });
    expect(quotaRoom(quota, 1)).toBe(2);
    expect(quotaRoom(quota, 4)).toBe(0);
  });

  it('counts what another bay was just granted before its status says so (the ledger)', () => {
    const ledger = new NodeQuotaLedger();
    ledger.note(other, 4);
    expect(nodeQuotaOf(namespace('5'), self, [self, other], ledger)!.usedByOthers).toBe(4);
    ledger.forget(other);
    expect(nodeQuotaOf(namespace('5'), self, [self, other], ledger)!.usedByOthers).toBe(2);
  });

  it('caps autoscaling at what the other bays leave, naming the quota', () => {
    const quota = nodeQuotaOf(namespace('5'), self, [self, other], new NodeQuotaLedger())!;
    expect(autoscaleCap(quota, 'team-x')).toEqual({
      cap: 3,
      words: 'namespace team-x allows 5 nodes (marina.dev/max-nodes), 2 of them held by its other bays',
    });
  });

  it('allows nothing when the annotation is not a whole number, and says so', () => {
    const quota = nodeQuotaOf(namespace('ten'), self, [self], new NodeQuotaLedger())!;
    expect(quota.limit).toBe(0);
    expect(describeQuota(quota, 'team-x', 0, 2)).toContain(
      'marina.dev/max-nodes="ten" of namespace team-x is not a whole number',
    );
  });

  it('holds back only new nodes, the highest indexes first, never one that exists', () => {
    const nodes = [
      { index: 0, state: 'present' },
      { index: 1, state: 'intended' },
      { index: 2, state: 'new' },
      { index: 3, state: 'new' },
    ];
    expect(holdBackForQuota(nodes, 1)).toEqual({ kept: nodes.slice(0, 3), held: 1 });
    expect(holdBackForQuota(nodes, 0)).toEqual({ kept: nodes.slice(0, 2), held: 2 });
    expect(holdBackForQuota(nodes, Infinity)).toEqual({ kept: nodes, held: 0 });
  });
});
