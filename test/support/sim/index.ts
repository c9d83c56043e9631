import { randomBytes } from 'node:crypto';

import type { HostProvider } from '../../../src/hosts/provider.js';
import type { NodeOwnership, NodeSpec } from '../../../src/hosts/types.js';
import { SimWorld, type SimWorldConfig } from '../../../src/hosts/sim/index.js';
import { waitForNodeAddress } from '../../../src/hosts/wait.js';
import {
  applyDockerdTls,
  bindNode,
  initSwarm,
  joinSwarm,
  joinTokens,
  type DockerClient,
  type DockerdTlsMaterial,
} from '../../../src/swarm/index.js';

const GiB = 1024 ** 3;

export const SIM_FLAVOR = { cpu: 2, memoryBytes: 4 * GiB, diskBytes: 20 * GiB } as const;
export const SIM_IMAGE = 'marina-node/bookworm';
export const SIM_BRIDGE = 'marinabr0';

export type SimBay = Omit<NodeOwnership, 'index' | 'role'>;

/** A bay that exists only in a test: unique uid and name per call. */
export function simBay(label: string): SimBay {
  const id = randomBytes(3).toString('hex');
  return {
    bayUid: `sim-${label}-${id}-${randomBytes(8).toString('hex')}`,
    namespace: 'team-sim',
    bayName: `${label}-${id}`,
  };
}

export function simNodeSpec(bay: SimBay, index: number, overrides: Partial<NodeSpec> = {}): NodeSpec {
  return {
    name: `${bay.bayName}-${index}`,
    image: SIM_IMAGE,
    ownership: { ...bay, index, role: index === 0 ? 'manager' : 'worker' },
    flavor: SIM_FLAVOR,
    network: { bridge: SIM_BRIDGE },
    ...overrides,
  };
}

/** A world without latency: unit tests measure behaviour, not time. */
export function fastWorld(config: SimWorldConfig = {}): SimWorld {
  const latency = { create: 0, start: 0, stop: 0, delete: 0, list: 0, file: 0, exec: 0, other: 0, docker: 0 };
  return new SimWorld({
    ...config,
    latency: { ...latency, ...config.latency },
    docker: { caRotationMs: 50, ...config.docker },
  });
}

export interface SimNode {
  readonly name: string;
  readonly address: string;
  readonly client: DockerClient;
}

/** Creates the bay's nodes and starts them, in index order, with their addresses and dockerd clients. */
export async function bootSimNodes(
  world: SimWorld,
  provider: HostProvider,
  bay: SimBay,
  count: number,
): Promise<SimNode[]> {
  const specs = Array.from({ length: count }, (_, index) => simNodeSpec(bay, index));
  for (const spec of specs) await provider.ensureNode(spec);
  return Promise.all(
    specs.map(async (spec) => {
      await provider.startNode(spec.name);
      const { ipv4Address: address } = await waitForNodeAddress(provider, spec.name, {
        timeoutMs: 5_000,
        intervalMs: 10,
      });
      return { name: spec.name, address, client: world.dockerClient(address) };
    }),
  );
}

/**
 * PEM-shaped stand-ins: the simulated dockerd checks no certificate, so the swarm layer's TLS set-up
 * runs without the cost of real keys.
 */
export function fakeTlsMaterial(nodeName: string): DockerdTlsMaterial {
  const pem = (label: string, seed: string): string =>
    `-----BEGIN ${label}-----\n${Buffer.from(`${seed}:${'x'.repeat(900)}`)
      .toString('base64')
      .match(/.{1,64}/g)!
      .join('\n')}\n-----END ${label}-----\n`;
  return {
    caPems: [pem('CERTIFICATE', 'bay-ca')],
    certPem: pem('CERTIFICATE', nodeName),
    keyPem: pem('PRIVATE KEY', nodeName),
  };
}

/** Pushes certificates and daemon.json, restarts dockerd, and waits until it answers on 2376. */
export async function serveTls(provider: HostProvider, node: SimNode): Promise<void> {
  await applyDockerdTls(
    bindNode(provider, node.name),
    node.client,
    fakeTlsMaterial(node.name),
    new Date(Date.now() + 5_000),
  );
}

export interface SimSwarm {
  readonly nodes: readonly SimNode[];
  /** Swarm node IDs, in the order of `nodes`. */
  readonly ids: readonly string[];
  readonly leader: SimNode;
}

/**
 * Boots `count` nodes with TLS, makes the first the swarm's leader and joins the others: the first
 * `managers` with the manager token one at a time, the rest as workers in parallel.
 */
export async function simSwarm(
  world: SimWorld,
  provider: HostProvider,
  bay: SimBay,
  count: number,
  managers = 1,
): Promise<SimSwarm> {
  const nodes = await bootSimNodes(world, provider, bay, count);
  await Promise.all(nodes.map((node) => serveTls(provider, node)));
  const [leader, ...others] = nodes as [SimNode, ...SimNode[]];
  const ids = [(await initSwarm(leader.client, leader.address)).nodeId];
  const tokens = await joinTokens(leader.client);
  const join = async (node: SimNode, token: string): Promise<string> =>
    (await joinSwarm(node.client, { advertiseAddr: node.address, remoteAddrs: [leader.address], token })).nodeId;
  for (const node of others.slice(0, managers - 1)) ids.push(await join(node, tokens.manager));
  ids.push(...(await Promise.all(others.slice(managers - 1).map((node) => join(node, tokens.worker)))));
  return { nodes, ids, leader };
}
