import type { HostErrorContext } from './errors.js';
import { InvalidNodeSpecError } from './errors.js';
import type { NodeSpec } from './types.js';

/** Lowercase DNS label that is not a number: valid as an LXD/Incus instance name and as a hostname. */
const NODE_NAME = /^(?!\d+$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
/** Below this Docker does not start reliably. */
const MIN_MEMORY_BYTES = 128 * 1024 ** 2;

/** Rejects a spec no host could satisfy, before anything is sent to a host. */
export function validateNodeSpec(spec: NodeSpec, context: HostErrorContext): void {
  const problem = findProblem(spec);
  if (problem !== undefined) throw new InvalidNodeSpecError(context, problem);
}

function findProblem(spec: NodeSpec): string | undefined {
  const { flavor, ownership, network } = spec;
  if (!NODE_NAME.test(spec.name)) return `name ${JSON.stringify(spec.name)} is not a lowercase DNS label`;
  if (spec.hostname !== undefined && !NODE_NAME.test(spec.hostname)) {
    return `hostname ${JSON.stringify(spec.hostname)} is not a lowercase DNS label`;
  }
  if (spec.image.trim() === '') return 'image is empty';
  if (!Number.isInteger(flavor.cpu) || flavor.cpu < 1) return `cpu must be a whole number ≥ 1, got ${flavor.cpu}`;
  if (!Number.isSafeInteger(flavor.memoryBytes) || flavor.memoryBytes < MIN_MEMORY_BYTES) {
    return `memory must be at least ${MIN_MEMORY_BYTES} bytes, got ${flavor.memoryBytes}`;
  }
  if (!Number.isSafeInteger(flavor.diskBytes) || flavor.diskBytes < 1) return `disk must be positive bytes`;
  if (flavor.processes !== undefined && (!Number.isInteger(flavor.processes) || flavor.processes < 1)) {
    return `processes must be a whole number ≥ 1`;
  }
  if (!ownership.bayUid || !ownership.namespace || !ownership.bayName) return 'ownership is incomplete';
  if (!Number.isInteger(ownership.index) || ownership.index < 0) return 'ownership index must be ≥ 0';
  if (network.bridge.trim() === '') return 'network bridge is empty';
  if (network.ipv4Address !== undefined && !IPV4.test(network.ipv4Address)) {
    return `ipv4Address ${JSON.stringify(network.ipv4Address)} is not an IPv4 address`;
  }
  if (network.antiSpoofing && network.ipv4Address === undefined) return 'antiSpoofing needs a fixed ipv4Address';
  return undefined;
}
