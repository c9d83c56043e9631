import type { HostAggregate, HostStatus } from '../../api/types.generated.js';
import { formatBytes } from '../../api/quantity.js';
import { HostError, type HostProvider } from '../../hosts/index.js';
import { formatTime } from '../../runtime/conditions.js';
import type { HostHandle } from '../host-registry.js';

/** Why a host is not ready, as a CamelCase reason: what a person fixes differs for each. */
export type HostNotReadyReason = 'CredentialsMissing' | 'CredentialsInvalid' | 'Unreachable' | 'Untrusted' | 'TlsFailure' | 'ProbeFailed' | 'ImageMissing' | 'BridgeMissing';

const REASON_BY_CODE: Partial<Record<HostError['code'], HostNotReadyReason>> = {
  unreachable: 'Unreachable',
  timeout: 'Unreachable',
  tls: 'TlsFailure',
  unauthorized: 'Untrusted',
};

/**
 * Asks one host what the aggregate needs to know: that it answers and trusts marina, that the node
 * image and the bridge exist, what it has and what its instances are entitled to, and how many marina
 * nodes it runs.
 */
export async function probeHost(name: string, handle: HostHandle, aggregate: HostAggregate, now: Date): Promise<HostStatus> {
  const base = { name, lastProbeTime: formatTime(now) };
  if (!handle.ok) return { ...base, ready: false, reason: handle.reason, message: handle.message };
  try {
    return { ...base, ...(await inspect(handle.provider, aggregate)) };
  } catch (err) {
    const reason = err instanceof HostError ? (REASON_BY_CODE[err.code] ?? 'ProbeFailed') : 'ProbeFailed';
    return { ...base, ready: false, reason, message: err instanceof Error ? err.message : String(err) };
  }
}

async function inspect(provider: HostProvider, aggregate: HostAggregate): Promise<Omit<HostStatus, 'name' | 'lastProbeTime'>> {
  const identity = await provider.probe();
  const server = `${identity.server} ${identity.version}`;
  if (!identity.trusted) {
    return { ready: false, server, reason: 'Untrusted', message: "the host answers but does not trust marina's client certificate: add it to the host's trust store (docs/hosts.md)" };
  }
  const [capacity, image, bridge, nodes] = await Promise.all([
    provider.capacity(),
    provider.findImage(aggregate.spec.image),
    provider.getBridge(aggregate.spec.network.bridge),
    provider.listNodes({}),
  ]);
  const facts = {
    server,
    imagePresent: image !== undefined,
    capacity: { cpu: capacity.total.cpu, memory: formatBytes(capacity.total.memoryBytes) },
    allocated: { cpu: capacity.allocated.cpu, memory: formatBytes(capacity.allocated.memoryBytes) },
    nodes: nodes.length,
  };
  if (!image) return { ...facts, ready: false, reason: 'ImageMissing', message: `the node image ${aggregate.spec.image} is not on the host: run marina image build there` };
  if (!bridge) return { ...facts, ready: false, reason: 'BridgeMissing', message: `the bridge ${aggregate.spec.network.bridge} does not exist on the host` };
  return { ...facts, ready: true, reason: 'Ready', message: 'the host answers, trusts marina and has the node image' };
}
