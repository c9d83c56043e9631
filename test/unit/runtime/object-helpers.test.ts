import { describe, expect, it } from 'vitest';
import { addFinalizerPatch, hasFinalizer, removeFinalizerPatch } from '../../../src/runtime/finalizers.js';
import { controllerKeyOf, controllerOf, controllerReference, withOwnerReference } from '../../../src/runtime/owner-refs.js';
import { collectionPath, objectKey, objectPath, parseKey, type KubeObject, type ResourceType } from '../../../src/runtime/resource.js';

const widget: ResourceType = { group: 'test.marina.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };
const configMap: ResourceType = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
const node: ResourceType = { group: '', version: 'v1', kind: 'Node', plural: 'nodes', namespaced: false };

describe('keys and paths', () => {
  it('round-trips namespaced and cluster-scoped keys', () => {
    expect(parseKey(objectKey({ metadata: { namespace: 'ns', name: 'a' } }))).toEqual({ namespace: 'ns', name: 'a' });
    expect(parseKey(objectKey({ metadata: { name: 'n1' } }))).toEqual({ name: 'n1' });
  });

  it('builds core and group paths, with subresources', () => {
    expect(collectionPath(configMap, 'ns')).toBe('/api/v1/namespaces/ns/configmaps');
    expect(collectionPath(configMap)).toBe('/api/v1/configmaps');
    expect(objectPath(widget, { namespace: 'ns', name: 'w' }, 'status')).toBe('/apis/test.marina.dev/v1/namespaces/ns/widgets/w/status');
    expect(objectPath(node, { name: 'n1' })).toBe('/api/v1/nodes/n1');
  });

  it('refuses an object path of a namespaced kind without a namespace', () => {
    expect(() => objectPath(configMap, { name: 'a' })).toThrow(/needs a namespace/);
  });
});

describe('finalizers', () => {
  const obj = (finalizers?: string[]): KubeObject => ({ metadata: { name: 'w', namespace: 'ns', resourceVersion: '7', finalizers } });

  it('appending is guarded by a test of the current list', () => {
    expect(addFinalizerPatch(obj(['other']), 'marina.dev/cleanup')).toEqual([
      { op: 'test', path: '/metadata/finalizers', value: ['other'] },
      { op: 'add', path: '/metadata/finalizers/-', value: 'marina.dev/cleanup' },
    ]);
  });

  it('creating the list is guarded by a test of the resourceVersion', () => {
    expect(addFinalizerPatch(obj(), 'marina.dev/cleanup')).toEqual([
      { op: 'test', path: '/metadata/resourceVersion', value: '7' },
      { op: 'add', path: '/metadata/finalizers', value: ['marina.dev/cleanup'] },
    ]);
  });

  it('removal is by index, guarded by a test that the index still holds the finalizer', () => {
    expect(removeFinalizerPatch(obj(['a', 'marina.dev/cleanup', 'b']), 'marina.dev/cleanup')).toEqual([
      { op: 'test', path: '/metadata/finalizers/1', value: 'marina.dev/cleanup' },
      { op: 'remove', path: '/metadata/finalizers/1' },
    ]);
    expect(hasFinalizer(obj(['marina.dev/cleanup']), 'marina.dev/cleanup')).toBe(true);
  });
});

describe('owner references', () => {
  const owner: KubeObject = { metadata: { name: 'w', namespace: 'ns', uid: 'uid-w' } };

  it('a controller reference names the owner by kind, name and uid', () => {
    expect(controllerReference(owner, widget)).toEqual({
      apiVersion: 'test.marina.dev/v1',
      kind: 'Widget',
      name: 'w',
      uid: 'uid-w',
      controller: true,
      blockOwnerDeletion: true,
    });
  });

  it('refuses an owner that was never stored', () => {
    expect(() => controllerReference({ metadata: { name: 'w' } }, widget)).toThrow(/no uid/);
  });

  it('setting a reference twice keeps one, and a second controller is refused', () => {
    const child: KubeObject = { metadata: { name: 'c', namespace: 'ns' } };
    const owned = withOwnerReference(withOwnerReference(child, controllerReference(owner, widget)), controllerReference(owner, widget));
    expect(owned.metadata.ownerReferences).toHaveLength(1);
    expect(controllerOf(owned)?.uid).toBe('uid-w');
    const rival = controllerReference({ metadata: { name: 'x', namespace: 'ns', uid: 'uid-x' } }, widget);
    expect(() => withOwnerReference(owned, rival)).toThrow(/already controlled/);
  });

  it('maps an owned object to the key of its controller when the controller is of the given kind', () => {
    const child = withOwnerReference({ metadata: { name: 'c', namespace: 'ns' } }, controllerReference(owner, widget));
    expect(controllerKeyOf(child, widget)).toBe('ns/w');
    expect(controllerKeyOf(child, configMap)).toBeUndefined();
    expect(controllerKeyOf({ metadata: { name: 'orphan', namespace: 'ns' } }, widget)).toBeUndefined();
  });
});
