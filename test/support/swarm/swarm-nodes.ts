import { connect } from 'node:tls';
import type { HostProvider } from '../../../src/hosts/provider.js';
import type { NodeOwnership } from '../../../src/hosts/types.js';
import { waitForNodeAddress } from '../../../src/hosts/wait.js';
import { inspectCertificate } from '../../../src/pki/index.js';
import { dockerClient, type DockerClient } from '../../../src/swarm/index.js';
import { ofBay, sweepInstances, testNodeSpec, type LxcCli, type LxdTestHost } from '../lxd/index.js';
import type { TlsIdentity } from './tls-peers.js';

/** A running LXD node of an e2e bay with the address its DHCP client got. */
export interface BootedNode {
  readonly name: string;
  readonly address: string;
}

/**
 * Creates the bay's nodes one after the other, then starts them together; returns them in index
 * order. Creation is serial because LXD 5.0 hands concurrent creations of `security.idmap.isolated`
 * containers id ranges outside /etc/subuid (the first then fails to start with "newuidmap ... not
 * allowed"); serial creations get valid ranges. This is set-up through marina's provider, the way
 * the operator makes nodes (the provider has its own e2e specification); tests observe and remove
 * the nodes with the real `lxc`.
 */
export async function bootNodes(
  provider: HostProvider,
  host: LxdTestHost,
  image: string,
  bay: Omit<NodeOwnership, 'index' | 'role'>,
  count: number,
): Promise<BootedNode[]> {
  const specs = Array.from({ length: count }, (_, index) => testNodeSpec(host, image, bay, index));
  for (const spec of specs) await provider.ensureNode(spec);
  return Promise.all(
    specs.map(async (spec) => {
      await provider.startNode(spec.name);
      const node = await waitForNodeAddress(provider, spec.name, { timeoutMs: 90_000 });
      return { name: spec.name, address: node.ipv4Address };
    }),
  );
}

/** Deletes every instance of the bay with the real `lxc`, released or not, however far its creation got. */
export async function removeBayNodes(lxc: LxcCli, bayUid: string): Promise<void> {
  await sweepInstances(lxc, ofBay(bayUid));
}

/** The operator's client for a node's dockerd. */
export function operatorClient(address: string, caPems: readonly string[], identity: TlsIdentity): DockerClient {
  return dockerClient({ address, caPems, certPem: identity.certPem, keyPem: identity.keyPem, timeoutMs: 60_000 });
}

/**
 * A tiny image made inside the node from its own files (no registry is reachable from the nodes):
 * just `sleep` and the C library it needs. Tagged under a localhost registry so that the swarm's
 * attempt to pull it fails at once (connection refused) and the local copy is used.
 */
export const SLEEP_IMAGE = 'localhost:5000/marina-e2e/sleep:1';

export async function importSleepImage(lxc: LxcCli, nodeName: string): Promise<void> {
  const script = [
    'set -e',
    'cd /',
    'tar -c --dereference usr/bin/sleep lib64/ld-linux-x86-64.so.2 usr/lib/x86_64-linux-gnu/libc.so.6 2>/dev/null' +
      ` | docker import --change 'CMD ["/usr/bin/sleep","infinity"]' - ${SLEEP_IMAGE} >/dev/null`,
  ].join('\n');
  const result = await lxc.exec(nodeName, ['sh', '-c', script], { timeoutMs: 60_000 });
  if (result.code !== 0) throw new Error(`importing the sleep image into ${nodeName} failed: ${result.stderr}`);
}

/** The serial of the certificate dockerd serves right now (proves a restart picked up a new one). */
export function servedCertificateSerial(address: string, port: number, caPems: readonly string[], identity: TlsIdentity): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port, ca: [...caPems], cert: identity.certPem, key: identity.keyPem }, () => {
      const der = socket.getPeerCertificate().raw;
      socket.end();
      resolve(inspectCertificate(`-----BEGIN CERTIFICATE-----\n${der.toString('base64')}\n-----END CERTIFICATE-----\n`).serial);
    });
    socket.once('error', reject);
  });
}

/** Elapsed milliseconds of an async step, for the timing lines the suite prints. */
export async function timed<T>(label: string, timings: Map<string, number>, step: () => Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await step();
  } finally {
    timings.set(label, Math.round(performance.now() - started));
  }
}
