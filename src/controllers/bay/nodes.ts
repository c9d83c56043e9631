import type { Bay } from '../../api/types.generated.js';
import { parseBytes } from '../../api/quantity.js';
import { waitForNodeAddress, type HostProvider, type NodeSpec } from '../../hosts/index.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import { applyDockerdTls, bindNode, dockerClient, readLocalSwarmState, type DockerClient } from '../../swarm/index.js';
import { ensureNodeServerCertificate, type BayPki } from './certificates.js';
import type { NodeRole } from '../../scheduler/types.js';

/** How a node came out of phases 3 and 4; a failure is a fact too, recorded in status, not thrown. */
export type NodeOutcome =
  | { readonly ok: true; readonly address: string; readonly certificateNotAfter: Date; readonly created: boolean }
  | { readonly ok: false; readonly stage: 'provision' | 'docker'; readonly message: string; readonly address?: string };

export interface NodeTarget {
  readonly name: string;
  readonly index: number;
  readonly role: NodeRole;
  readonly provider: HostProvider;
  /** The aggregate's image alias and bridge. */
  readonly image: string;
  readonly bridge: string;
}

export interface NodeTimeouts {
  readonly addressMs: number;
  readonly dockerMs: number;
}

export const DEFAULT_NODE_TIMEOUTS: NodeTimeouts = { addressMs: 120_000, dockerMs: 120_000 };

export function nodeSpec(bay: Bay, target: NodeTarget): NodeSpec {
  return {
    name: target.name,
    image: target.image,
    ownership: { bayUid: bay.metadata.uid!, namespace: bay.metadata.namespace!, bayName: bay.metadata.name!, index: target.index, role: target.role },
    flavor: { cpu: bay.spec.flavor.cpu, memoryBytes: parseBytes(bay.spec.flavor.memory), diskBytes: parseBytes(bay.spec.flavor.disk) },
    network: { bridge: target.bridge },
  };
}

/** marina's client for one node's dockerd, trusting only the bay's CA. */
export function nodeDocker(pki: BayPki, address: string, timeoutMs = 30_000): DockerClient {
  return dockerClient({ address, caPems: [pki.ca.certPem], certPem: pki.operator.certPem, keyPem: pki.operator.keyPem, timeoutMs });
}

/**
 * Phases 3 and 4 for one node, each step idempotent: create (or adopt) the instance, start it, wait for
 * its address, then make its dockerd serve mutual TLS with a server certificate naming that address.
 * A node whose dockerd already answers marina over TLS is left alone (no restart).
 */
export async function bringUpNode(client: KubeClient, bay: Bay, pki: BayPki, target: NodeTarget, timeouts: NodeTimeouts, signal?: AbortSignal): Promise<NodeOutcome> {
  let created = false;
  let address: string;
  try {
    created = (await target.provider.ensureNode(nodeSpec(bay, target))).created;
    await target.provider.startNode(target.name);
    address = (await waitForNodeAddress(target.provider, target.name, { timeoutMs: timeouts.addressMs })).ipv4Address;
  } catch (err) {
    return { ok: false, stage: 'provision', message: messageOf(err) };
  }
  try {
    const cert = await ensureNodeServerCertificate(client, bay, pki, { name: target.name, address }, signal);
    if (!(await answersOverTls(pki, address))) {
      const material = { caPems: [pki.ca.certPem], certPem: cert.certPem, keyPem: cert.keyPem };
      await applyDockerdTls(bindNode(target.provider, target.name), nodeDocker(pki, address), material, new Date(Date.now() + timeouts.dockerMs));
    }
    return { ok: true, address, certificateNotAfter: cert.notAfter, created };
  } catch (err) {
    return { ok: false, stage: 'docker', message: messageOf(err), address };
  }
}

/** True when the node's dockerd already serves TLS with a certificate of this bay's CA for `address`. */
async function answersOverTls(pki: BayPki, address: string): Promise<boolean> {
  try {
    await readLocalSwarmState(nodeDocker(pki, address, 5_000), 'tls-check');
    return true;
  } catch {
    return false;
  }
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
