import type { Bay, BayNodeStatus } from '../../api/types.generated.js';
import { parseBytes } from '../../api/quantity.js';
import { waitForNodeAddress, type HostProvider, type NodeDrift, type NodeInfo, type NodeSpec } from '../../hosts/index.js';
import { applyDockerdTls, bindNode, dockerClient, readLocalSwarmState, type DockerClient } from '../../swarm/index.js';
import type { NodeRole } from '../../scheduler/types.js';
import { ensureNodeServerCertificate, type BayPki } from './certificates.js';
import type { BayControllerDeps, NodeDockerFactory } from './deps.js';
import { classifyFailure, type BayFailure } from './failures.js';

/** How a node came out of phases 3 and 4; a failure is a fact too, recorded in status and judged by the policy. */
export type NodeOutcome =
  | {
      readonly ok: true;
      readonly address: string;
      readonly certificateNotAfter: Date;
      readonly created: boolean;
      /** Settings the running node differs in from what is asked now; reported, never acted on. */
      readonly drift: readonly NodeDrift[];
      /** Settings repaired on a node that never ran workloads. */
      readonly repaired: readonly NodeDrift[];
    }
  | { readonly ok: false; readonly stage: 'provision' | 'docker'; readonly failure: BayFailure; readonly address?: string };

export interface NodeTarget {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly provider: HostProvider;
  /** The host's key in the inventory, where what marina did to the node is noted. */
  readonly inventoryKey: string;
  /** The aggregate's image alias and bridge. */
  readonly image: string;
  readonly bridge: string;
  /** What status last said of the node; a node that was never Ready has run no workload. */
  readonly recordedState: BayNodeStatus['state'] | undefined;
}

export function nodeSpec(bay: Bay, target: Pick<NodeTarget, 'name' | 'index' | 'role' | 'image' | 'bridge'>): NodeSpec {
  return {
    name: target.name,
    image: target.image,
    ownership: { bayUid: bay.metadata.uid!, namespace: bay.metadata.namespace!, bayName: bay.metadata.name!, index: target.index, role: target.role },
    flavor: { cpu: bay.spec.flavor.cpu, memoryBytes: parseBytes(bay.spec.flavor.memory), diskBytes: parseBytes(bay.spec.flavor.disk) },
    network: { bridge: target.bridge },
  };
}

/** marina's client for one node's dockerd over the network, trusting only the bay's CA. */
export const nodeDocker: NodeDockerFactory = (tls, address, timeoutMs = 30_000): DockerClient =>
  dockerClient({ address, caPems: tls.caPems, certPem: tls.certPem, keyPem: tls.keyPem, timeoutMs });

export const dockerTlsOf = (pki: BayPki) => ({ caPems: [pki.ca.certPem], certPem: pki.operator.certPem, keyPem: pki.operator.keyPem });

/**
 * Phases 3 and 4 for one node, each step idempotent: create (or adopt) the instance, repair its
 * settings if it never ran workloads, start it, wait for its address, then make its dockerd serve
 * mutual TLS with a server certificate naming that address. A node whose dockerd already answers
 * marina over TLS is left alone (no restart).
 */
export async function bringUpNode(deps: BayControllerDeps, bay: Bay, pki: BayPki, target: NodeTarget, signal?: AbortSignal): Promise<NodeOutcome> {
  const stage = stageTimer(deps);
  const spec = nodeSpec(bay, target);
  let node: NodeInfo & { ipv4Address: string };
  let created = false;
  let drift: readonly NodeDrift[] = [];
  let repaired: readonly NodeDrift[] = [];
  try {
    let ensured = await stage('create', () => target.provider.ensureNode(spec), (e) => e.created);
    created = ensured.created;
    if (ensured.drift.length > 0 && neverRanWorkloads(target.recordedState, ensured.node)) {
      repaired = ensured.drift;
      ensured = await target.provider.reconfigureNode(spec);
    } else {
      drift = ensured.drift;
    }
    const booting = ensured.node.status !== 'running';
    if (booting) await stage('start', () => target.provider.startNode(target.name));
    node = await stage('address', () => waitForNodeAddress(target.provider, target.name, { timeoutMs: deps.timeouts.addressMs }), () => booting);
  } catch (err) {
    return { ok: false, stage: 'provision', failure: classifyFailure('nodes', err, target.name) };
  }
  deps.inventory.noteNode(target.inventoryKey, node);
  const address = node.ipv4Address;
  try {
    const cert = await ensureNodeServerCertificate(deps.secrets, bay, pki, { name: target.name, address }, signal);
    const docker = deps.docker(dockerTlsOf(pki), address);
    if (!(await answersOverTls(deps.docker(dockerTlsOf(pki), address, 5_000)))) {
      const material = { caPems: [pki.ca.certPem], certPem: cert.certPem, keyPem: cert.keyPem };
      const deadline = new Date(Date.now() + deps.timeouts.dockerMs);
      await stage('dockerd', () => applyDockerdTls(bindNode(target.provider, target.name), docker, material, deadline));
    }
    return { ok: true, address, certificateNotAfter: cert.notAfter, created, drift, repaired };
  } catch (err) {
    return { ok: false, stage: 'docker', failure: classifyFailure('nodes', err, target.name), address };
  }
}

/**
 * A node that was never a Ready swarm member and is not running has run no workload: changing or
 * re-creating its instance loses nothing. Any other node keeps its instance as it is.
 */
export function neverRanWorkloads(recorded: BayNodeStatus['state'] | undefined, node: NodeInfo): boolean {
  return recorded !== 'Ready' && recorded !== 'Lost' && recorded !== 'Draining' && node.status !== 'running';
}

/** True when the node's dockerd already serves TLS with a certificate of this bay's CA for its address. */
async function answersOverTls(client: DockerClient): Promise<boolean> {
  try {
    await readLocalSwarmState(client, 'tls-check');
    return true;
  } catch {
    return false;
  }
}

type StageTimer = <T>(name: 'create' | 'start' | 'address' | 'dockerd', work: () => Promise<T>, counts?: (result: T) => boolean) => Promise<T>;

/** Times a provisioning stage into marina_node_provisioning_seconds when it did real work. */
function stageTimer(deps: BayControllerDeps): StageTimer {
  return async (name, work, counts) => {
    const started = performance.now();
    const result = await work();
    if (!counts || counts(result)) deps.metrics?.provisioned(name, (performance.now() - started) / 1000);
    return result;
  };
}
