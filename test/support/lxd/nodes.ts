import { randomBytes } from 'node:crypto';

import type { HostProvider } from '../../../src/hosts/provider.js';
import type { NodeOwnership, NodeSpec, OwnershipSelector } from '../../../src/hosts/types.js';
import { waitFor } from '../processes.js';
import type { LxdTestHost } from './host.js';
import { inNamespace, sweepInstances, type LxcCli, type LxcInstance } from './lxc-cli.js';

/** The namespace every e2e node claims, so a sweep finds leftovers of crashed runs too. */
export const E2E_NAMESPACE = 'marina-e2e';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/** Small enough for a 2-core machine to run several. */
export const TEST_FLAVOR = { cpu: 1, memoryBytes: 512 * MiB, diskBytes: 4 * GiB } as const;

/** A bay that exists only in a test: unique uid and name per call. */
export function testBay(label: string): Omit<NodeOwnership, 'index' | 'role'> {
  const id = randomBytes(3).toString('hex');
  return { bayUid: `e2e-${label}-${id}-${randomBytes(8).toString('hex')}`, namespace: E2E_NAMESPACE, bayName: `${label}-${id}` };
}

export function testNodeSpec(
  host: LxdTestHost,
  image: string,
  bay: Omit<NodeOwnership, 'index' | 'role'>,
  index: number,
  role: NodeOwnership['role'] = index === 0 ? 'manager' : 'worker',
): NodeSpec {
  return {
    name: `${bay.bayName}-${index}`,
    image,
    ownership: { ...bay, index, role },
    flavor: TEST_FLAVOR,
    network: { bridge: host.bridge },
  };
}

/**
 * Deletes e2e nodes left by runs that died before their afterAll (killed worker, power loss). Only
 * old ones: a concurrent run's fresh nodes are not touched.
 */
export async function sweepStaleNodes(lxc: LxcCli, olderThanMs = 2 * 60 * 60_000): Promise<string[]> {
  const cutoff = Date.now() - olderThanMs;
  const stale = (instance: LxcInstance): boolean =>
    inNamespace(E2E_NAMESPACE)(instance) && instance.createdAt.getTime() < cutoff;
  return sweepInstances(lxc, stale);
}

/** Until `docker info` answers inside the node (dockerd starts a second or so after the node), via `lxc exec`. */
export async function waitForDockerInNode(lxc: LxcCli, name: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `dockerd in ${name}`,
    async () => {
      const result = await lxc.exec(name, ['docker', 'info', '--format', '{{.ServerVersion}}']);
      return result.code === 0 ? true : undefined;
    },
    timeoutMs,
    250,
  );
}

// The benchmarks time marina's provider itself, so they wait and clean up through it; tests use lxc.

/** Deletes every node matching the selector through the provider; returns their names. */
export async function sweepNodes(provider: HostProvider, selector: OwnershipSelector): Promise<string[]> {
  const nodes = await provider.listNodes(selector);
  await Promise.all(nodes.map((node) => provider.deleteNode(node.name)));
  return nodes.map((node) => node.name);
}

/** Until `docker info` answers inside the node, asked through the provider. */
export async function waitForDocker(provider: HostProvider, name: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    `dockerd in ${name}`,
    async () => {
      const result = await provider.exec(name, ['docker', 'info', '--format', '{{.ServerVersion}}']);
      return result.exitCode === 0 ? true : undefined;
    },
    timeoutMs,
    250,
  );
}
