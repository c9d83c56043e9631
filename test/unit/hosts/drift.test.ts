import { describe, expect, it } from 'vitest';
import { describeDrift, nodeDrift } from '../../../src/hosts/index.js';
import { testNode } from '../../support/builders.js';

const wanted = { flavor: { cpu: 1, memoryBytes: 512 * 2 ** 20, diskBytes: 2 * 2 ** 30 }, kernelModules: [] as string[], imageFingerprint: 'f'.repeat(64) };

describe('node drift: what an existing node differs in from what is asked of it now', () => {
  it('finds none for a node made from the same flavor, modules and image', () => {
    expect(nodeDrift(testNode('web-0'), wanted)).toEqual([]);
  });

  it('names kernel modules changed on the aggregate, whatever their order', () => {
    const node = testNode('web-0', { kernelModules: ['vxlan', 'overlay'] });
    expect(nodeDrift(node, { ...wanted, kernelModules: ['overlay', 'vxlan'] })).toEqual([]);
    const drift = nodeDrift(node, wanted);
    expect(describeDrift(drift)).toBe('kernel-modules (overlay,vxlan → none)');
  });

  it('names a new image of the aggregate, and limits that differ', () => {
    const drift = nodeDrift(testNode('web-0', { limits: { cpu: 2, memoryBytes: 512 * 2 ** 20 } }), { ...wanted, imageFingerprint: 'a'.repeat(64) });
    expect(drift.map((d) => d.setting)).toEqual(['image', 'cpu']);
  });
});
