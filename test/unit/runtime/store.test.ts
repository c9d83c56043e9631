import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/runtime/resource.js';
import { Store, diffSnapshot } from '../../../src/runtime/store.js';

const cm = (name: string, resourceVersion: string, uid = `uid-${name}`): KubeObject => ({
  metadata: { namespace: 'ns', name, resourceVersion, uid },
});

describe('store', () => {
  it('keys namespaced objects namespace/name and cluster-scoped objects by name', () => {
    const store = new Store<KubeObject>();
    store.upsert(cm('a', '1'));
    store.upsert({ metadata: { name: 'node-1', resourceVersion: '1' } });
    expect(store.keys().sort()).toEqual(['node-1', 'ns/a']);
  });

  it('an event at the resourceVersion already stored is unchanged, so handlers never see it twice', () => {
    const store = new Store<KubeObject>();
    expect(store.upsert(cm('a', '1')).kind).toBe('added');
    expect(store.upsert(cm('a', '1')).kind).toBe('unchanged');
    expect(store.upsert(cm('a', '2')).kind).toBe('updated');
  });

  it('removing an object it does not hold is unchanged', () => {
    const store = new Store<KubeObject>();
    expect(store.remove(cm('a', '1')).kind).toBe('unchanged');
  });
});

describe('relist after the watch was away', () => {
  const snapshot = (...objs: KubeObject[]): Map<string, KubeObject> => new Map(objs.map((o) => [`ns/${o.metadata.name}`, o]));

  it('reports objects that vanished as deletes, with their last known state', () => {
    const gone = cm('gone', '5');
    const delta = diffSnapshot(snapshot(cm('kept', '3'), gone), [cm('kept', '3')]);
    expect(delta).toEqual({ added: [], updated: [], deleted: [gone] });
  });

  it('reports new objects as adds and changed resourceVersions as updates', () => {
    const delta = diffSnapshot(snapshot(cm('a', '1'), cm('b', '2')), [cm('a', '1'), cm('b', '7'), cm('c', '8')]);
    expect(delta.added.map((o) => o.metadata.name)).toEqual(['c']);
    expect(delta.updated.map((u) => [u.oldObj.metadata.resourceVersion, u.newObj.metadata.resourceVersion])).toEqual([['2', '7']]);
    expect(delta.deleted).toEqual([]);
  });

  it('an object re-created under the same name is a delete of the old one and an add of the new one', () => {
    const delta = diffSnapshot(snapshot(cm('a', '1', 'old-uid')), [cm('a', '9', 'new-uid')]);
    expect(delta.deleted.map((o) => o.metadata.uid)).toEqual(['old-uid']);
    expect(delta.added.map((o) => o.metadata.uid)).toEqual(['new-uid']);
    expect(delta.updated).toEqual([]);
  });

  it('replace leaves the store holding exactly the listed objects', () => {
    const store = new Store<KubeObject>();
    store.upsert(cm('a', '1'));
    store.upsert(cm('b', '1'));
    store.replace([cm('b', '2'), cm('c', '3')]);
    expect(store.keys().sort()).toEqual(['ns/b', 'ns/c']);
    expect(store.get('ns/b')?.metadata.resourceVersion).toBe('2');
  });
});
