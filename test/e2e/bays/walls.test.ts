import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bayYaml, E2E_SUBNET_POOL, getBay } from '../../support/bays/cluster.js';
import { dockerWithBundle, fetchCredentials } from '../../support/bays/docker-cli.js';
import { useBayTestEnvironment } from '../../support/bays/environment.js';
import { restartLxdDaemon } from '../../support/chaos/daemons.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from '../../support/bays/workload-image.js';
import { mustKubectl } from '../../support/kubectl.js';
import { inNamespace, nodeIndex, ofBay, sweepBayNetworks, sweepInstances } from '../../support/lxd/index.js';
import { run, waitFor } from '../../support/processes.js';

// Two tenants, each with a bay called `web`, on one host whose aggregate runs in isolated mode.
const env = useBayTestEnvironment('e2e-walls', { network: 'isolated' });
const { kubectl } = env;
const NS_X = env.namespace;
const NS_Y = `${env.namespace}-y`;

interface Node {
  readonly name: string;
  readonly address: string;
}

/** The bay's nodes by index: node 0 is its one manager (it alone listens on 2377), node 1 a worker. */
async function nodesOf(namespace: string, bay: string): Promise<Node[]> {
  const uid = (await getBay(kubectl, namespace, bay)).metadata.uid;
  const instances = (await env.lxc.list()).filter(ofBay(uid)).sort((a, b) => nodeIndex(a) - nodeIndex(b));
  return instances.map((i) => ({ name: i.name, address: i.ipv4[0]! }));
}

/** A TCP connection from inside the node (perl is in the node image): true when the peer accepted it. */
async function connects(from: Node, to: string, port: number, source?: string): Promise<boolean> {
  const script = source
    ? `exit(IO::Socket::INET->new(PeerAddr=>"${to}",PeerPort=>${port},LocalAddr=>"${source}",Timeout=>3)?0:1)`
    : `exit(IO::Socket::INET->new(PeerAddr=>"${to}",PeerPort=>${port},Timeout=>3)?0:1)`;
  const result = await env.lxc.exec(from.name, ['timeout', '5', 'perl', '-MIO::Socket::INET', '-e', script]);
  return result.code === 0;
}

/** The TCP ports the node listens on for others (not loopback), as `ss` in the node lists them. */
async function listeningPorts(node: Node): Promise<number[]> {
  const listed = await env.lxc.exec(node.name, ['ss', '-Htln']);
  const ports = listed.stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[3] ?? '')
    .filter((local) => local !== '' && !local.startsWith('127.') && !local.startsWith('[::1]'))
    .map((local) => Number(local.slice(local.lastIndexOf(':') + 1)));
  return [...new Set(ports)].sort((a, b) => a - b);
}

/** The LXD daemon itself (the setup script started it), not the `[lxc monitor]` processes of its instances. */
async function mustRun(command: string, args: readonly string[]): Promise<void> {
  const result = await run(command, args, { timeoutMs: 180_000 });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
}

let x: Node[] = [];
let y: Node[] = [];

beforeAll(async () => {
  await mustKubectl(kubectl, ['create', 'namespace', NS_Y]);
  await mustKubectl(kubectl, ['label', 'namespace', NS_Y, 'tenant=true']);
  await env.applyBay('web', { nodes: 2 });
  await mustKubectl(kubectl, ['apply', '-f', '-'], { input: bayYaml('web', NS_Y, { nodes: 2 }) });
  await env.waitReady('web');
  await env.waitReady('web', NS_Y);
  x = await nodesOf(NS_X, 'web');
  y = await nodesOf(NS_Y, 'web');
});

afterAll(async () => {
  await kubectl(['delete', 'bays', '--all', '-n', NS_Y, '--timeout=180s']);
  await sweepInstances(env.lxc, inNamespace(NS_Y));
  await sweepBayNetworks(env.lxc, NS_Y);
  await kubectl(['delete', 'namespace', NS_Y, '--wait=false']);
});

describe('walls between bays (isolated network mode)', () => {
  it("gives each bay a bridge of its own, with a subnet of the pool and each node's address fixed on it", async () => {
    const { networks, acls } = await env.lxc.bayNetworks();
    const bridgeOf = async (node: Node): Promise<string> =>
      (await env.lxc.must(['config', 'device', 'get', node.name, 'eth0', 'network'])).trim();
    const bridges = [await bridgeOf(x[0]!), await bridgeOf(x[1]!), await bridgeOf(y[0]!), await bridgeOf(y[1]!)];
    expect(bridges[0]).toBe(bridges[1]);
    expect(bridges[2]).toBe(bridges[3]);
    expect(bridges[0]).not.toBe(bridges[2]);
    for (const bridge of [bridges[0]!, bridges[2]!]) {
      expect(networks.map((n) => n.name)).toContain(bridge);
      expect(acls.map((a) => a.name)).toContain(bridge);
    }
    const pool = E2E_SUBNET_POOL.split('.').slice(0, 2).join('.');
    for (const node of [...x, ...y]) {
      expect(node.address.startsWith(`${pool}.`)).toBe(true);
      const nic = async (key: string): Promise<string> =>
        (await env.lxc.must(['config', 'device', 'get', node.name, 'eth0', key])).trim();
      expect(await nic('ipv4.address')).toBe(node.address);
      expect(await nic('security.ipv4_filtering')).toBe('true');
    }
  });

  it("a node reaches its own bay's swarm ports and no listening port of the other bay's, either way", async () => {
    for (const [a, b] of [
      [x, y],
      [y, x],
    ] as const) {
      const [manager, worker] = [a[0]!, a[1]!];
      expect(await connects(worker, manager.address, 2377)).toBe(true);
      expect(await connects(manager, worker.address, 7946)).toBe(true);
      expect(await connects(worker, manager.address, 2376)).toBe(true);
      for (const target of b) {
        const ports = await listeningPorts(target);
        expect(ports).toEqual(expect.arrayContaining([2376, 7946]));
        for (const port of ports)
          expect(await connects(a[0]!, target.address, port), `${target.name}:${port}`).toBe(false);
      }
    }
  });

  it("a container inside a node reaches its own bay's nodes and not the other bay's", async () => {
    const docker = dockerWithBundle(await fetchCredentials(env.kubeconfig, 'web', NS_X));
    await loadWorkloadImage(docker, x[0]!.address);
    const inContainer = async (command: string): Promise<number> =>
      (await docker(['run', '--rm', WORKLOAD_IMAGE, 'sh', '-c', command], { host: x[0]!.address })).code;
    const probe = (to: string, port: number): Promise<number> => inContainer(`nc -w 3 ${to} ${port} </dev/null`);
    // ICMP too: the walls are not about TCP alone.
    expect(await inContainer(`ping -c 1 -W 2 ${x[1]!.address}`)).toBe(0);
    expect(await inContainer(`ping -c 1 -W 2 ${y[0]!.address}`)).not.toBe(0);
    expect(await probe(x[1]!.address, 7946)).toBe(0);
    expect(await probe(x[1]!.address, 2376)).toBe(0);
    for (const target of y) {
      expect(await probe(target.address, 2376)).not.toBe(0);
      expect(await probe(target.address, 7946)).not.toBe(0);
    }
    expect(await probe(y[0]!.address, 2377)).not.toBe(0);
  });

  it('a node cannot send from an address that is not its own', async () => {
    const [peer, node] = [x[0]!, x[1]!];
    const octets = node.address.split('.').map(Number);
    // An unused address in the bay's own subnet: only the filter, not a wall, stands in the way.
    const spoofed = [...octets.slice(0, 3), octets[3]! + 40].join('.');
    // replace and flush rather than add and del: an exec LXD retries may have run once already.
    await env.lxc.mustExec(node.name, ['ip', 'address', 'replace', `${spoofed}/32`, 'dev', 'eth0']);
    try {
      expect(await connects(node, peer.address, 2377, node.address)).toBe(true);
      expect(await connects(node, peer.address, 2377, spoofed)).toBe(false);
    } finally {
      await env.lxc.mustExec(node.name, ['ip', 'address', 'flush', 'dev', 'eth0', 'to', `${spoofed}/32`]);
    }
  });

  it('the walls come back when the LXD daemon restarts after its firewall rules were lost (as in a reboot)', async () => {
    // A reboot empties the kernel's tables; the daemon's restart must write the walls again.
    await restartLxdDaemon(() => mustRun('nft', ['delete', 'table', 'inet', 'lxd']));
    for (const [a, b] of [
      [x, y],
      [y, x],
    ] as const) {
      expect(await connects(a[1]!, a[0]!.address, 2377)).toBe(true);
      expect(await connects(a[0]!, b[0]!.address, 2376)).toBe(false);
      expect(await connects(a[0]!, b[1]!.address, 7946)).toBe(false);
    }
    // The nodes kept running through the restart; the operator sees both bays Ready again.
    await env.waitReady('web');
    await mustKubectl(kubectl, ['wait', '-n', NS_Y, '--for=condition=Ready', '--timeout=120s', 'bay/web']);
  });

  it("deleting a bay deletes its bridge and walls, and leaves the other bay's", async () => {
    const bridgeOfY = (await env.lxc.must(['config', 'device', 'get', y[0]!.name, 'eth0', 'network'])).trim();
    await mustKubectl(kubectl, ['delete', 'bay', 'web', '-n', NS_X, '--timeout=180s']);
    const { networks, acls } = await waitFor(
      "the deleted bay's bridge gone",
      async () => {
        const found = await env.lxc.bayNetworks();
        return found.networks.some((n) => n.config['user.marina.bay.namespace'] === NS_X) ? undefined : found;
      },
      60_000,
      1_000,
    );
    expect(acls.filter((a) => a.config['user.marina.bay.namespace'] === NS_X)).toEqual([]);
    expect(networks.map((n) => n.name)).toContain(bridgeOfY);
    expect((await getBay(kubectl, NS_Y, 'web')).status?.readyNodes).toBe(2);
  });
});
