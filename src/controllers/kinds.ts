import type { ObjectMeta, ResourceType } from '../runtime/resource.js';

export const BAY: ResourceType = { group: 'marina.dev', version: 'v1alpha1', kind: 'Bay', plural: 'bays', namespaced: true };
export const HOST_AGGREGATE: ResourceType = { group: 'marina.dev', version: 'v1alpha1', kind: 'HostAggregate', plural: 'hostaggregates', namespaced: false };
export const SECRET: ResourceType = { group: '', version: 'v1', kind: 'Secret', plural: 'secrets', namespaced: true };
export const NAMESPACE: ResourceType = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

export interface SecretObject {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
}

export interface NamespaceObject {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: ObjectMeta;
}
