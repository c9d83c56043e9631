import { vi } from 'vitest';
import type { Condition } from '../../../src/runtime/conditions.js';
import { isConflict, isNotFound } from '../../../src/runtime/errors.js';
import type { KubeClient } from '../../../src/runtime/kube-client.js';
import type { KubeObject, ResourceType } from '../../../src/runtime/resource.js';

/** A test-only kind with a status subresource, in a group of its own (the marina CRDs belong to others). */
export const WIDGET: ResourceType = { group: 'test.marina.dev', version: 'v1', kind: 'Widget', plural: 'widgets', namespaced: true };

export interface Widget extends KubeObject {
  spec?: { size?: number };
  status?: { phase?: string; observedGeneration?: number; conditions?: Condition[] };
}

const CRD: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  kind: 'CustomResourceDefinition',
  plural: 'customresourcedefinitions',
  namespaced: false,
};
const CRD_NAME = `${WIDGET.plural}.${WIDGET.group}`;

interface Crd extends KubeObject {
  status?: { conditions?: Array<{ type: string; status: string }> };
}

const condition = {
  type: 'object',
  required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
  properties: {
    type: { type: 'string' },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    reason: { type: 'string' },
    message: { type: 'string' },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    observedGeneration: { type: 'integer' },
  },
};

const crd = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: CRD_NAME },
  spec: {
    group: WIDGET.group,
    scope: 'Namespaced',
    names: { plural: WIDGET.plural, singular: 'widget', kind: WIDGET.kind, listKind: 'WidgetList' },
    versions: [
      {
        name: WIDGET.version,
        served: true,
        storage: true,
        subresources: { status: {} },
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: { type: 'object', properties: { size: { type: 'integer' } } },
              status: {
                type: 'object',
                properties: {
                  phase: { type: 'string' },
                  observedGeneration: { type: 'integer' },
                  conditions: { type: 'array', items: condition, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
                },
              },
            },
          },
        },
      },
    ],
  },
};

/** Installs the Widget CRD (idempotent) and waits until the apiserver serves it. */
export async function installWidgetCrd(client: KubeClient): Promise<void> {
  try {
    await client.create(CRD, crd);
  } catch (err) {
    if (!isConflict(err)) throw err;
  }
  await vi.waitFor(
    async () => {
      const current = await client.get<Crd>(CRD, { name: CRD_NAME });
      const established = current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
      if (!established) throw new Error(`${CRD_NAME} not established yet`);
      await client.list(WIDGET, { limit: 1 });
    },
    { timeout: 30_000, interval: 250 },
  );
}

export async function removeWidgetCrd(client: KubeClient): Promise<void> {
  await client.delete(CRD, { name: CRD_NAME }).catch((err: unknown) => {
    if (!isNotFound(err)) throw err;
  });
}

export function widget(namespace: string, name: string, size = 1): Widget {
  return { apiVersion: `${WIDGET.group}/${WIDGET.version}`, kind: WIDGET.kind, metadata: { namespace, name }, spec: { size } };
}
