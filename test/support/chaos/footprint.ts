import { expect } from 'vitest';
import { getBay, type BayView } from '../bays/cluster.js';
import { dockerWithBundle, fetchCredentials, swarmNodes, type SwarmMemberLine } from '../bays/docker-cli.js';
import type { BayTestEnvironment } from '../bays/environment.js';
import { OPERATOR_NAMESPACE, type Kubectl } from '../kubectl.js';
import { nodeIndex, ofBay, type LxcInstance } from '../lxd/index.js';

/**
 * What a bay leaves on the machine, as its own tools show it: instances (`lxc`), Secrets (`kubectl`),
 * swarm members (`docker` with the tenant's bundle). What the chaos suite checks after every fault.
 */
export interface BayFootprint {
  readonly instances: readonly LxcInstance[];
  /** Names of the bay's Secrets in the operator's namespace, e.g. `bay-<uid>-node-0`. */
  readonly internalSecrets: readonly string[];
  /** The bay's CA certificate (base64), or '' before it exists. */
  readonly ca: string;
}

export async function bayFootprint(env: BayTestEnvironment, uid: string): Promise<BayFootprint> {
  const instances = (await env.lxc.list()).filter(ofBay(uid));
  const secrets = await env.kubectl(['get', 'secrets', '-n', OPERATOR_NAMESPACE, '-l', `marina.dev/bay-uid=${uid}`, '-o', 'name']);
  const ca = await env.kubectl(['get', 'secret', `bay-${uid}-ca`, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.data.tls\\.crt}']);
  return {
    instances,
    internalSecrets: lines(secrets.stdout).map((s) => s.replace(/^secret\//, '')),
    ca: ca.code === 0 ? ca.stdout.trim() : '',
  };
}

/** Index numbers that more than one instance claims: a twin. */
export function twinIndexes(instances: readonly LxcInstance[]): number[] {
  const seen = new Map<number, number>();
  for (const i of instances) seen.set(nodeIndex(i), (seen.get(nodeIndex(i)) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([index]) => index);
}

/** The Secrets a bay of `nodes` nodes keeps in the operator's namespace, no more, no fewer. */
export function expectedInternalSecrets(uid: string, nodes: number): string[] {
  const nodeSecrets = Array.from({ length: nodes }, (_, i) => `bay-${uid}-node-${i}`);
  return [`bay-${uid}-ca`, `bay-${uid}-operator`, ...nodeSecrets].sort();
}

/** A bay as its user sees it once it settled: its object, its instances, its swarm, its Secrets. */
export interface SettledBay {
  readonly bay: BayView;
  readonly footprint: BayFootprint;
  readonly members: readonly SwarmMemberLine[];
}

export async function settledBay(env: BayTestEnvironment, name: string): Promise<SettledBay> {
  const bay = await getBay(env.kubectl, env.namespace, name);
  const footprint = await bayFootprint(env, bay.metadata.uid);
  const members = await swarmNodes(dockerWithBundle(await fetchCredentials(env.kubeconfig, name, env.namespace)));
  return { bay, footprint, members };
}

/** What a bay was declared with, and the CA it has had since its first reconcile. */
export interface DeclaredBay {
  readonly uid: string;
  readonly ca: string;
  readonly nodes: number;
  readonly managers?: number;
}

/**
 * A settled bay has exactly its declared nodes, running, each index once, each in the swarm once and
 * Ready, exactly one server-key Secret per node, and the CA it began with.
 */
export async function expectExactlyDeclared(env: BayTestEnvironment, name: string, declared: DeclaredBay): Promise<SettledBay> {
  const settled = await settledBay(env, name);
  const { bay, footprint, members } = settled;
  const names = footprint.instances.map((i) => i.name).sort();
  expect(footprint.instances.map(nodeIndex).sort((a, b) => a - b)).toEqual([...Array(declared.nodes).keys()]);
  expect(footprint.instances.filter((i) => i.status !== 'Running').map((i) => i.name)).toEqual([]);
  expect(bay.status?.nodes?.map((n) => n.name).sort()).toEqual(names);
  expect(members.map((m) => m.hostname)).toEqual(names);
  expect(members.filter((m) => m.status !== 'Ready').map((m) => m.hostname)).toEqual([]);
  expect(members.filter((m) => m.manager !== '')).toHaveLength(declared.managers ?? 1);
  expect(footprint.internalSecrets.slice().sort()).toEqual(expectedInternalSecrets(declared.uid, declared.nodes));
  expect(footprint.ca).toBe(declared.ca);
  return settled;
}

/** True once the bay reports Ready for its current spec (a grown spec is not Ready on the old status). */
export async function readyForSpec(kubectl: Kubectl, namespace: string, name: string): Promise<boolean> {
  const bay = await getBay(kubectl, namespace, name);
  const status = bay.status;
  const ready = status?.conditions?.find((c) => c.type === 'Ready');
  return (
    ready?.status === 'True' &&
    status?.observedGeneration === bay.metadata.generation &&
    status?.readyNodes === bay.spec.nodes
  );
}

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim()).filter(Boolean);
