import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { createLogger, type Logger } from '../../../src/runtime/logger.js';
import { KubeClient } from '../../../src/runtime/kube-client.js';
import type { KubeObject, ResourceType } from '../../../src/runtime/resource.js';

export const CONFIG_MAP: ResourceType = { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', namespaced: true };
export const NAMESPACE: ResourceType = { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false };

export interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

export function kubeConfigFrom(path: string, server?: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  if (!server) return kc;
  // Same credentials, another address (a proxy in front of the apiserver).
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error(`${path} has no current cluster`);
  kc.clusters = kc.clusters.map((c) => (c.name === cluster.name ? { ...c, server } : c));
  return kc;
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`;
}

/** A fresh namespace per test keeps tests on the shared apiserver from seeing each other's objects. */
export async function createNamespace(client: KubeClient, prefix: string): Promise<string> {
  const name = uniqueName(prefix);
  await client.create(NAMESPACE, { metadata: { name } });
  return name;
}

export async function deleteNamespace(client: KubeClient, name: string): Promise<void> {
  await client.delete(NAMESPACE, { name }).catch(() => undefined);
}

export function configMap(namespace: string, name: string, data: Record<string, string> = {}): ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name }, data };
}

/** A JSON logger whose lines the test can read (and assert on), silent on the console. */
export class CapturedLog {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly log: Logger;

  constructor(level = 'debug') {
    const sink = new Writable({
      write: (chunk: Buffer, _enc, done) => {
        for (const line of chunk.toString('utf8').split('\n')) if (line) this.lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    this.log = createLogger({ level, destination: sink });
  }

  messages(msg: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => l.msg === msg);
  }
}
