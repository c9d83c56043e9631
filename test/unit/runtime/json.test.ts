import { describe, expect, it } from 'vitest';
import { jsonEqual, mergePatch } from '../../../src/runtime/json.js';

describe('JSON comparison', () => {
  it('ignores object key order but not array order', () => {
    expect(jsonEqual({ a: 1, b: [1, 2] }, { b: [1, 2], a: 1 })).toBe(true);
    expect(jsonEqual({ b: [2, 1] }, { b: [1, 2] })).toBe(false);
  });

  it('treats an undefined property as absent, as JSON does', () => {
    expect(jsonEqual({ a: 1, b: undefined }, { a: 1 })).toBe(true);
  });
});

describe('merge patch', () => {
  it('is undefined when nothing changed', () => {
    expect(mergePatch({ phase: 'Ready', nodes: [{ name: 'n1' }] }, { nodes: [{ name: 'n1' }], phase: 'Ready' })).toBeUndefined();
  });

  it('holds only the changed keys, nested', () => {
    expect(mergePatch({ phase: 'Pending', usage: { cpu: 1, memory: 2 } }, { phase: 'Pending', usage: { cpu: 3, memory: 2 } })).toEqual({
      usage: { cpu: 3 },
    });
  });

  it('sets removed keys to null so the apiserver deletes them', () => {
    expect(mergePatch({ phase: 'Ready', endpoint: 'tcp://x' }, { phase: 'Ready' })).toEqual({ endpoint: null });
  });

  it('replaces arrays whole', () => {
    expect(mergePatch({ conditions: [{ type: 'A' }, { type: 'B' }] }, { conditions: [{ type: 'A' }] })).toEqual({ conditions: [{ type: 'A' }] });
  });

  it('is the whole value when there was nothing before', () => {
    expect(mergePatch(undefined, { phase: 'Pending' })).toEqual({ phase: 'Pending' });
  });
});
