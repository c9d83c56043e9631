import { describe, expect, it } from 'vitest';
import { generationChanged, specOrMetadataChanged } from '../../../src/runtime/predicates.js';
import { isNewerVersion, type KubeObject } from '../../../src/runtime/resource.js';
import { withoutManagedFields } from '../../../src/runtime/reflector.js';
import { Store } from '../../../src/runtime/store.js';

const obj = (meta: Partial<KubeObject['metadata']>, status?: unknown): KubeObject & { status?: unknown } => ({
  metadata: { name: 'web', namespace: 'team-a', uid: 'u1', resourceVersion: '10', generation: 1, ...meta },
  ...(status === undefined ? {} : { status }),
});

describe('event filters', () => {
  it('a status write alone wakes nobody: same generation, labels, annotations and finalizers', () => {
    expect(specOrMetadataChanged(obj({}, { phase: 'Provisioning' }), obj({ resourceVersion: '11' }, { phase: 'Ready' }))).toBe(false);
  });

  it('a spec change raises the generation and wakes the controller', () => {
    expect(generationChanged(obj({}), obj({ generation: 2 }))).toBe(true);
    expect(specOrMetadataChanged(obj({}), obj({ generation: 2 }))).toBe(true);
  });

  it('an annotation (a rotation request, a release) or a deletion wakes the controller', () => {
    expect(specOrMetadataChanged(obj({}), obj({ annotations: { 'marina.dev/rotate-certificates': '1' } }))).toBe(true);
    expect(specOrMetadataChanged(obj({}), obj({ deletionTimestamp: '2026-12-01T00:00:00Z' }))).toBe(true);
    expect(specOrMetadataChanged(obj({ finalizers: ['a', 'b'] }), obj({ finalizers: ['a'] }))).toBe(true);
  });

  it('a finalizer added (the controller\'s own first write) wakes nobody', () => {
    expect(specOrMetadataChanged(obj({}), obj({ finalizers: ['marina.dev/bay-cleanup'] }))).toBe(false);
  });
});

describe('read-your-writes in the cache', () => {
  it('takes what a write returned, and the watch event of that version then changes nothing', () => {
    const store = new Store<KubeObject>();
    store.upsert(obj({ resourceVersion: '10' }));
    expect(store.absorb(obj({ resourceVersion: '12' }))).toBe(true);
    expect(store.get('team-a/web')?.metadata.resourceVersion).toBe('12');
    expect(store.upsert(obj({ resourceVersion: '12' })).kind).toBe('unchanged');
  });

  it('never goes back to an older version the watch already moved past', () => {
    const store = new Store<KubeObject>();
    store.upsert(obj({ resourceVersion: '15' }));
    expect(store.absorb(obj({ resourceVersion: '12' }))).toBe(false);
    expect(store.get('team-a/web')?.metadata.resourceVersion).toBe('15');
  });

  it('does not mistake a new object of the same name for the one it wrote', () => {
    const store = new Store<KubeObject>();
    store.upsert(obj({ uid: 'u2', resourceVersion: '20' }));
    expect(store.absorb(obj({ uid: 'u1', resourceVersion: '30' }))).toBe(false);
  });

  it('compares resourceVersions as integers when they are, and by difference otherwise', () => {
    expect(isNewerVersion('100', '99')).toBe(true);
    expect(isNewerVersion('99', '100')).toBe(false);
    expect(isNewerVersion('abc', 'abd')).toBe(true);
    expect(isNewerVersion(undefined, '1')).toBe(false);
  });
});

describe('what the cache keeps', () => {
  it('drops managedFields, which no controller reads and which are often most of an object', () => {
    const withFields = { metadata: { name: 'web', managedFields: [{ manager: 'marina', fieldsV1: { 'f:status': {} } }] } } as unknown as KubeObject;
    expect(withoutManagedFields(withFields)).toEqual({ metadata: { name: 'web' } });
    const plain = obj({});
    expect(withoutManagedFields(plain)).toBe(plain);
  });
});
