import { createHostProvider, type HostProvider } from '../../../src/hosts/index.js';
import type { Kubectl } from '../kubectl.js';
import { mustKubectl } from '../kubectl.js';
import type { LxdTestHost } from '../lxd/host.js';
import { waitFor } from '../processes.js';

/** The small flavor e2e bays use, so that several bays fit a 2-core machine. */
export const E2E_FLAVOR = { cpu: 1, memory: '512Mi', disk: '2Gi' } as const;

/** How e2e aggregates attach nodes: the test host's bridge, or a bridge per bay from this pool. */
export type E2eNetwork = 'shared' | 'isolated';
export const E2E_SUBNET_POOL = '10.241.0.0/16';

function networkYaml(mode: E2eNetwork, host: LxdTestHost): string {
  return mode === 'shared'
    ? `{mode: shared, bridge: ${host.bridge}}`
    : `{mode: isolated, subnetPool: ${E2E_SUBNET_POOL}, baySubnetPrefixLength: 26}`;
}

export function hostAggregateYaml(name: string, host: LxdTestHost, network: E2eNetwork = 'shared'): string {
  const kernelModules = host.kernelModules === undefined ? '' : `  kernelModules: [${host.kernelModules.join(', ')}]\n`;
  return `apiVersion: marina.dev/v1alpha1
kind: HostAggregate
metadata: {name: ${name}}
spec:
  metadata: {flavor: container, suite: e2e}
  hosts:
    - {name: localhost, endpoint: "${host.socketEndpoint}"}
  network: ${networkYaml(network, host)}
  storagePool: ${host.storagePool}
  # A 2-core test machine runs a dozen small nodes at once.
  overcommit: {cpu: 16, memory: 1}
${kernelModules}`;
}

export interface BaySpecInput {
  readonly nodes: number;
  readonly managers?: number;
  readonly deletionPolicy?: 'Delete' | 'Retain';
  readonly cpu?: number;
  /** spec.flavor.processes */
  readonly processes?: number;
  /** spec.tls fields, e.g. `{ caOverlap: '1m' }`. */
  readonly tls?: Readonly<Record<string, string>>;
  /** spec.network.encryptOverlay */
  readonly encryptOverlay?: boolean;
  /** The `suite` label of the aggregates the bay selects (e2e aggregates say `e2e`). */
  readonly suite?: string;
}

export function bayYaml(name: string, namespace: string, spec: BaySpecInput): string {
  return `apiVersion: marina.dev/v1alpha1
kind: Bay
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  nodes: ${spec.nodes}
  managers: ${spec.managers ?? 1}
  flavor: {cpu: ${spec.cpu ?? E2E_FLAVOR.cpu}, memory: ${E2E_FLAVOR.memory}, disk: ${E2E_FLAVOR.disk}${
    spec.processes ? `, processes: ${spec.processes}` : ''
  }}
  aggregateSelector: {matchLabels: {suite: ${spec.suite ?? 'e2e'}}}
  deletionPolicy: ${spec.deletionPolicy ?? 'Delete'}
${spec.tls ? `  tls: ${JSON.stringify(spec.tls)}\n` : ''}${
    spec.encryptOverlay ? '  network: {encryptOverlay: true}\n' : ''
  }`;
}

export interface BayView {
  metadata: { uid: string; name: string; namespace: string; generation?: number };
  spec: { nodes: number; managers?: number };
  status?: {
    observedGeneration?: number;
    phase?: string;
    endpoint?: string;
    readyNodes?: number;
    conditions?: { type: string; status: string; reason: string; message: string }[];
    nodes?: { name: string; address?: string; role: string; state?: string; ready?: boolean; index: number; host?: string; swarmNodeID?: string; certificateSerial?: string }[];
    certificates?: {
      rotation?: { kind: string; step: string; reason: string };
      handledRequests?: Record<string, string>;
      lastLeafRotationTime?: string;
      lastCaRotationTime?: string;
      lastSwarmCaRotationTime?: string;
    };
    usage?: { cpuPercent?: number; memoryPercent?: number; pendingTasks?: number };
    autoscale?: { target?: number; lastScaleUpTime?: string; lastScaleUpReason?: string };
  };
}

export async function getBay(kubectl: Kubectl, namespace: string, name: string): Promise<BayView> {
  return JSON.parse(await mustKubectl(kubectl, ['get', 'bay', name, '-n', namespace, '-o', 'json'])) as BayView;
}

export async function waitForPhase(kubectl: Kubectl, namespace: string, name: string, phase: string, timeoutMs: number): Promise<BayView> {
  return waitFor(`bay ${namespace}/${name} phase ${phase}`, async () => {
    const bay = await getBay(kubectl, namespace, name);
    return bay.status?.phase === phase ? bay : undefined;
  }, timeoutMs, 500);
}

/**
 * marina's own provider on the test host, for the benchmarks. Tests observe the host with the real
 * `lxc` (test/support/lxd/lxc-cli.ts) instead: an observer built on marina would share its bugs.
 */
export function hostProvider(host: LxdTestHost): HostProvider {
  return createHostProvider(host.socketEndpoint, undefined, { name: 'e2e-observer', ...(host.kernelModules ? { kernelModules: host.kernelModules } : {}) });
}

/** Deletes every node marina made for bays of `namespace`, whatever happened to the bays. */
export async function sweepNamespaceNodes(provider: HostProvider, namespace: string): Promise<void> {
  for (const node of await provider.listNodes({ namespace })) await provider.deleteNode(node.name).catch(() => undefined);
}
