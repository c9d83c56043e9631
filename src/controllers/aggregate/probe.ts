import type { HostAggregate, HostStatus } from '../../api/types.generated.js';
import { formatBytes } from '../../api/quantity.js';
import { HostError } from '../../hosts/index.js';
import type { HostInventory } from '../hosts/inventory.js';
import { hostCapabilities, type KernelModuleSightings } from './capabilities.js';
import type { HostHandle } from '../hosts/registry.js';

/** Why a host is not ready, as a CamelCase reason: what a person fixes differs for each. */
export type HostNotReadyReason =
  | 'CredentialsMissing'
  | 'CredentialsInvalid'
  | 'CredentialsNotAllowed'
  | 'Unreachable'
  | 'Untrusted'
  | 'TlsFailure'
  | 'ProbeFailed'
  | 'ImageMissing'
  | 'BridgeMissing';

export const HOST_READY = 'Ready';
/** Ready, and its nodes are being moved away (hosts[].evacuate). */
export const HOST_EVACUATING = 'Evacuating';

const REASON_BY_CODE: Partial<Record<HostError['code'], HostNotReadyReason>> = {
  unreachable: 'Unreachable',
  timeout: 'Unreachable',
  tls: 'TlsFailure',
  unauthorized: 'Untrusted',
};

/** One host's probe: the status entry, without the transition time (status.ts keeps that). */
export type ProbedHost = Omit<HostStatus, 'lastTransitionTime'>;

/**
 * Asks one host what the aggregate needs to know: that it answers and trusts marina, that the node
 * image and the bridge exist, what it has and what its instances are entitled to, and how many marina
 * nodes it runs. The instance listing is the host's observation in the inventory, which bays read.
 */
export async function probeHost(
  name: string,
  key: string,
  handle: HostHandle,
  aggregate: HostAggregate,
  inventory: HostInventory,
  sightings: KernelModuleSightings,
): Promise<ProbedHost> {
  // `key` is the host's inventory key (its endpoint): one observation serves every aggregate listing it.
  if (!handle.ok) return { name, ready: false, reason: handle.reason, message: handle.message };
  try {
    const provider = handle.provider;
    const identity = await provider.probe();
    const server = `${identity.server} ${identity.version}`;
    if (!identity.trusted) {
      return { name, ready: false, server, reason: 'Untrusted', message: "the host answers but does not trust marina's client certificate: add it to the host's trust store (docs/hosts.md)" };
    }
    const [view, image, bridge] = await Promise.all([
      inventory.observe(key, provider, 0),
      provider.findImage(aggregate.spec.image),
      // Isolated mode makes each bay's bridge itself; shared and bridged modes need theirs to exist.
      aggregate.spec.network.mode !== 'isolated' ? provider.getBridge(aggregate.spec.network.bridge) : true,
    ]);
    if (!view.ok) throw view.error;
    inventory.setImage(key, aggregate.spec.image, image?.fingerprint);
    const { capacity } = view;
    const modules = await sightings.lookup(key, identity.environment?.kernelVersion, provider, view.nodes.values());
    const facts = {
      name,
      server,
      imagePresent: image !== undefined,
      capacity: { cpu: capacity.total.cpu, memory: formatBytes(capacity.total.memoryBytes) },
      allocated: { cpu: capacity.allocated.cpu, memory: formatBytes(capacity.allocated.memoryBytes) },
      nodes: view.nodes.size,
      capabilities: hostCapabilities(identity.environment, modules),
    };
    if (!image) return { ...facts, ready: false, reason: 'ImageMissing', message: `the node image ${aggregate.spec.image} is not on the host: run marina image build there` };
    if (!bridge) return { ...facts, ready: false, reason: 'BridgeMissing', message: `the bridge ${aggregate.spec.network.bridge} does not exist on the host` };
    if (aggregate.spec.hosts.find((h) => h.name === name)?.evacuate) {
      const left = view.nodes.size;
      const message = left === 0 ? 'evacuated: no bay node is left on the host' : `being evacuated: ${left} bay node(s) left to move`;
      return { ...facts, ready: true, reason: HOST_EVACUATING, message };
    }
    return { ...facts, ready: true, reason: HOST_READY, message: 'the host answers, trusts marina and has the node image' };
  } catch (err) {
    const reason = err instanceof HostError ? (REASON_BY_CODE[err.code] ?? 'ProbeFailed') : 'ProbeFailed';
    return { name, ready: false, reason, message: err instanceof Error ? err.message : String(err) };
  }
}
