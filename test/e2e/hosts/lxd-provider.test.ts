import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HostTimeoutError, NodeConflictError, NodeNotFoundError } from '../../../src/hosts/errors.js';
import type { HostProvider } from '../../../src/hosts/provider.js';
import type { NodeSpec } from '../../../src/hosts/types.js';
import { waitForNodeAddress } from '../../../src/hosts/wait.js';
import type { LxcCli, LxdTestHost } from '../../support/lxd/index.js';
import {
  MARINA_KEYS,
  TEST_FLAVOR,
  TRANSPORTS,
  instanceNames,
  lxcFor,
  lxdTestHost,
  marinaKeys,
  ofBay,
  providerOver,
  sweepInstances,
  sweepStaleNodes,
  testBay,
  testNodeImage,
  testNodeSpec,
  trustedTestIdentity,
  waitForDockerInNode,
} from '../../support/lxd/index.js';

/**
 * The HostProvider specification, run against the real LXD daemon of this machine once over its unix
 * socket and once over HTTPS with a client certificate. The tests of one transport share nodes and
 * run in order (creating a node is the expensive part); each test still asserts one behaviour. What
 * the provider did is checked with the real `lxc` CLI, never with the provider itself.
 */
describe.each(TRANSPORTS)('an LXD host reached over its %s', (transport) => {
  const label = transport === 'https' ? 'https' : 'unix';
  const bay = testBay(`hosts-${label}`);
  const otherBay = testBay(`other-${label}`);
  let host: LxdTestHost;
  let lxc: LxcCli;
  let provider: HostProvider;
  let manager: NodeSpec;
  let worker: NodeSpec;

  beforeAll(async () => {
    host = await lxdTestHost();
    const identity = await trustedTestIdentity(host);
    const image = (await testNodeImage(host)).alias;
    provider = providerOver(transport, host, identity);
    lxc = lxcFor(host);
    await sweepStaleNodes(lxc);
    manager = testNodeSpec(host, image, bay, 0);
    worker = testNodeSpec(host, image, bay, 1);
  });

  afterAll(async () => {
    // Whatever happened above: every node this suite may have created goes.
    if (lxc) {
      await sweepInstances(lxc, ofBay(bay.bayUid));
      await sweepInstances(lxc, ofBay(otherBay.bayUid));
    }
    provider?.close();
  });

  it('a probe names the daemon and says it trusts marina', async () => {
    const identity = await provider.probe();

    expect(identity.server).toBe('lxd');
    expect(identity.version).toMatch(/^\d+\.\d+/);
    expect(identity.trusted).toBe(true);
  });

  it('creates a node from the image, stopped, carrying its ownership and limits', async () => {
    const { node, created } = await provider.ensureNode(manager);

    expect(created).toBe(true);
    expect(node.status).toBe('stopped');
    expect(node.ownership).toEqual(manager.ownership);
    expect(node.limits).toMatchObject(TEST_FLAVOR);
    const onHost = await lxc.instance(manager.name);
    expect(onHost?.status).toBe('Stopped');
    expect(marinaKeys(onHost!)).toEqual(ownershipKeys(manager));
    expect(onHost?.config['limits.cpu']).toBe(String(TEST_FLAVOR.cpu));
  });

  it('starts the node: it gets an address on the host bridge and Docker runs inside', async () => {
    await provider.startNode(manager.name);
    const node = await waitForNodeAddress(provider, manager.name, { timeoutMs: 60_000 });
    await waitForDockerInNode(lxc, manager.name);

    const bridge = await provider.getBridge(host.bridge);
    expect(bridge?.ipv4Cidr).toBe((await lxc.must(['network', 'get', host.bridge, 'ipv4.address'])).trim());
    expect(inCidr(node.ipv4Address, bridge?.ipv4Cidr ?? '')).toBe(true);
    const onHost = await lxc.instance(manager.name);
    expect(onHost?.status).toBe('Running');
    expect(onHost?.ipv4).toContain(node.ipv4Address);
    const docker = await lxc.exec(manager.name, ['systemctl', 'is-active', 'docker']);
    expect(docker.stdout.trim()).toBe('active');
  });

  it('boots with every unit it starts running and none failed', async () => {
    const state = await lxc.exec(manager.name, ['systemctl', 'is-system-running', '--wait']);
    const failed = await lxc.exec(manager.name, ['systemctl', 'list-units', '--failed', '--no-legend', '--plain']);
    expect(failed.stdout.trim()).toBe('');
    expect(state.stdout.trim()).toBe('running');
  });

  it("sets the node's hostname to its name, not the image builder's", async () => {
    const result = await lxc.exec(manager.name, ['hostname']);

    expect(result.stdout.trim()).toBe(manager.name);
  });

  it('creating a node twice adopts the existing instance', async () => {
    const { node, created } = await provider.ensureNode(manager);

    expect(created).toBe(false);
    expect(node.status).toBe('running');
    expect(await instanceNames(lxc, ofBay(bay.bayUid))).toEqual([manager.name]);
  });

  it('nodes ensured at once each get an id range of their own inside the host\'s, and all start', async () => {
    const crowd = testBay(`crowd-${label}`);
    const specs = [0, 1, 2, 3, 4].map((i) => testNodeSpec(host, manager.image, crowd, i));
    try {
      await Promise.all(specs.map((spec) => provider.ensureNode(spec)));
      await Promise.all(specs.map((spec) => provider.startNode(spec.name)));

      const baseOf = async (name: string): Promise<number> => Number(await lxc.configGet(name, 'volatile.idmap.base'));
      const ranges = await Promise.all(specs.map((spec) => baseOf(spec.name)));
      const allowed = await subordinateIdRange();
      const sorted = [...ranges].sort((a, b) => a - b);
      expect(new Set(ranges).size).toBe(specs.length);
      for (const base of sorted) {
        expect(base).toBeGreaterThanOrEqual(allowed.start);
        expect(base + ID_RANGE_SIZE).toBeLessThanOrEqual(allowed.start + allowed.count);
      }
      for (let i = 1; i < sorted.length; i++) expect(sorted[i]! - sorted[i - 1]!).toBeGreaterThanOrEqual(ID_RANGE_SIZE);
      for (const spec of specs) {
        expect((await lxc.instance(spec.name))?.status).toBe('Running');
        expect(await lxc.configGet(spec.name, 'security.idmap.isolated')).toBe('true');
      }
    } finally {
      await sweepInstances(lxc, ofBay(crowd.bayUid));
    }
  });

  it("refuses a name taken by another bay's node", async () => {
    const impostor: NodeSpec = { ...manager, ownership: { ...otherBay, index: 0, role: 'manager' } };

    await expect(provider.ensureNode(impostor)).rejects.toBeInstanceOf(NodeConflictError);
    expect(marinaKeys((await lxc.instance(manager.name))!)).toEqual(ownershipKeys(manager));
  });

  it("listing by ownership finds exactly the bay's nodes", async () => {
    await provider.ensureNode(worker);
    const stranger = testNodeSpec(host, manager.image, otherBay, 0);
    await provider.ensureNode(stranger);

    const names = async (selector: Parameters<HostProvider['listNodes']>[0]): Promise<string[]> =>
      (await provider.listNodes(selector)).map((node) => node.name);
    expect(await instanceNames(lxc, ofBay(bay.bayUid))).toEqual([manager.name, worker.name].sort());
    expect(await names({ bayUid: bay.bayUid })).toEqual([manager.name, worker.name].sort());
    expect(await names({ bayUid: bay.bayUid, role: 'worker' })).toEqual([worker.name]);
    expect(await names({ bayUid: otherBay.bayUid })).toEqual([stranger.name]);
    expect(await instanceNames(lxc, ofBay(otherBay.bayUid))).toEqual([stranger.name]);
  });

  it('limits are in force inside the node', async () => {
    const view = await nodeView(lxc, manager.name);
    const capacity = await provider.capacity();
    console.info(
      `[${transport}] node sees: nproc=${view.nproc} MemTotal=${mib(view.memTotalBytes)} cgroup limit=${mib(view.cgroupMemoryBytes)} ` +
        `lxcfs=${view.lxcfs} docker NCPU=${view.dockerCpus} MemTotal=${mib(view.dockerMemoryBytes)}; ` +
        `host has ${capacity.total.cpu} CPUs, ${mib(capacity.total.memoryBytes)}`,
    );

    // CPUs are a cpuset: nproc (sched_getaffinity) and Docker see the limit with or without lxcfs.
    expect(view.nproc).toBe(TEST_FLAVOR.cpu);
    expect(view.dockerCpus).toBe(TEST_FLAVOR.cpu);
    // Memory is a cgroup limit, always enforced ...
    expect(view.cgroupMemoryBytes).toBe(TEST_FLAVOR.memoryBytes);
    // ... but /proc/meminfo (and so Docker and Swarm) shows it only through lxcfs.
    if (view.lxcfs) {
      expect(view.memTotalBytes).toBe(TEST_FLAVOR.memoryBytes);
      expect(view.dockerMemoryBytes).toBe(TEST_FLAVOR.memoryBytes);
    } else {
      expect(view.memTotalBytes).toBeGreaterThan(TEST_FLAVOR.memoryBytes);
    }
  });

  it('a pushed file arrives with its content, mode and owner', async () => {
    const path = '/etc/marina/probe/secret.pem';
    await provider.pushFiles(manager.name, [{ path, content: 'not a real key\n', mode: 0o600, createParents: true }]);
    expect(await statOf(lxc, manager.name, path)).toBe('600 0 0');
    expect((await lxc.exec(manager.name, ['cat', path])).stdout).toBe('not a real key\n');

    await provider.pushFiles(manager.name, [{ path, content: 'replaced\n', mode: 0o644, uid: 65534, gid: 65534 }]);
    expect(await statOf(lxc, manager.name, path)).toBe('644 65534 65534');
    expect((await lxc.exec(manager.name, ['cat', path])).stdout).toBe('replaced\n');
  });

  it('files pushed together under new directories all arrive, in directories made for them', async () => {
    const files = ['/srv/marina/a/one.txt', '/srv/marina/a/b/two.txt', '/srv/marina/three.txt'];
    await provider.pushFiles(
      manager.name,
      files.map((path) => ({ path, content: `${path}\n`, mode: 0o640, createParents: true })),
    );
    for (const path of files) {
      expect(await statOf(lxc, manager.name, path)).toBe('640 0 0');
      expect((await lxc.exec(manager.name, ['cat', path])).stdout).toBe(`${path}\n`);
    }
    expect(await statOf(lxc, manager.name, '/srv/marina/a/b')).toBe('755 0 0');
  });

  it('exec returns the exit code and both output streams', async () => {
    const result = await provider.exec(manager.name, ['sh', '-c', 'echo out; echo err >&2; exit 7']);

    expect(result).toEqual({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  it('a command that outlives its deadline fails with a timeout naming the node', async () => {
    const failure = provider.exec(manager.name, ['sleep', '10'], { timeoutMs: 1_000 });

    await expect(failure).rejects.toBeInstanceOf(HostTimeoutError);
    await expect(failure).rejects.toMatchObject({ instance: manager.name, operation: 'exec' });
  });

  it('exec in a node that does not exist says so', async () => {
    await expect(provider.exec(`${bay.bayName}-99`, ['true'])).rejects.toBeInstanceOf(NodeNotFoundError);
  });

  it('stopping and starting are idempotent', async () => {
    await provider.stopNode(manager.name, { timeoutSeconds: 20 });
    await provider.stopNode(manager.name);
    expect((await lxc.instance(manager.name))?.status).toBe('Stopped');

    await provider.startNode(manager.name);
    await provider.startNode(manager.name);
    expect((await lxc.instance(manager.name))?.status).toBe('Running');
  });

  it('reports the host capacity and what its instances are entitled to', async () => {
    const capacity = await provider.capacity();

    expect(capacity.total.cpu).toBeGreaterThanOrEqual(1);
    expect(capacity.total.memoryBytes).toBeGreaterThan(TEST_FLAVOR.memoryBytes);
    expect(capacity.total.diskBytes).toBeGreaterThan(0);
    // This suite's three nodes at least (other instances may exist on the host).
    for (const sum of [capacity.allocated, capacity.reservedByMarina]) {
      expect(sum.instances).toBeGreaterThanOrEqual(3);
      expect(sum.cpu).toBeGreaterThanOrEqual(3 * TEST_FLAVOR.cpu);
      expect(sum.memoryBytes).toBeGreaterThanOrEqual(3 * TEST_FLAVOR.memoryBytes);
      expect(sum.diskBytes).toBeGreaterThanOrEqual(3 * TEST_FLAVOR.diskBytes);
    }
    expect(capacity.allocated.instances).toBeGreaterThanOrEqual(capacity.reservedByMarina.instances);
  });

  it('deleting a node is idempotent', async () => {
    expect(await provider.deleteNode(worker.name)).toBe(true);
    expect(await provider.deleteNode(worker.name)).toBe(false);
    expect(await lxc.instance(worker.name)).toBeUndefined();
  });

  it('deletes a running node', async () => {
    expect((await lxc.instance(manager.name))?.status).toBe('Running');
    expect(await provider.deleteNode(manager.name)).toBe(true);
    expect(await instanceNames(lxc, ofBay(bay.bayUid))).toEqual([]);
  });
});

interface NodeView {
  readonly nproc: number;
  readonly memTotalBytes: number;
  readonly cgroupMemoryBytes: number;
  readonly lxcfs: boolean;
  readonly dockerCpus: number;
  readonly dockerMemoryBytes: number;
}

/** The `user.marina.*` keys a node made from the spec must carry on the host. */
function ownershipKeys(spec: NodeSpec): Record<string, string> {
  const { bayUid, namespace, bayName, index, role } = spec.ownership;
  return {
    [MARINA_KEYS.bayUid]: bayUid,
    [MARINA_KEYS.namespace]: namespace,
    [MARINA_KEYS.bayName]: bayName,
    [MARINA_KEYS.index]: String(index),
    [MARINA_KEYS.role]: role,
  };
}

/** What software inside the node sees of its resources (cgroup v1 or v2 for the memory limit), read with `lxc exec`. */
async function nodeView(lxc: LxcCli, name: string): Promise<NodeView> {
  const script = [
    'nproc',
    "awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo",
    'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes',
    "grep -c '^lxcfs /proc/meminfo ' /proc/mounts || true",
    "docker info --format '{{.NCPU}} {{.MemTotal}}'",
  ].join('; ');
  const result = await lxc.exec(name, ['sh', '-c', script]);
  expect(result.code, result.stderr).toBe(0);
  const [nproc, memTotal, cgroup, lxcfs, docker] = result.stdout.trim().split('\n');
  const [dockerCpus, dockerMemory] = (docker ?? '').split(' ');
  return {
    nproc: Number(nproc),
    memTotalBytes: Number(memTotal),
    cgroupMemoryBytes: Number(cgroup),
    lxcfs: Number(lxcfs) > 0,
    dockerCpus: Number(dockerCpus),
    dockerMemoryBytes: Number(dockerMemory),
  };
}

async function statOf(lxc: LxcCli, name: string, path: string): Promise<string> {
  return (await lxc.exec(name, ['stat', '-c', '%a %u %g', path])).stdout.trim();
}

function inCidr(address: string, cidr: string): boolean {
  const [network = '', bits = '32'] = cidr.split('/');
  const toInt = (ip: string): number => ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(address) / size) === Math.floor(toInt(network) / size);
}

function mib(bytes: number): string {
  return `${Math.round(bytes / 1024 ** 2)} MiB`;
}

/** How many uids and gids LXD gives each isolated container (security.idmap.size, default). */
const ID_RANGE_SIZE = 65536;

/** root's subordinate uid range on this machine (/etc/subuid), which LXD hands isolated ranges from. */
async function subordinateIdRange(): Promise<{ start: number; count: number }> {
  const line = (await readFile('/etc/subuid', 'utf8')).split('\n').find((l) => l.startsWith('root:'));
  const [, start = '0', count = '0'] = (line ?? '').split(':');
  return { start: Number(start), count: Number(count) };
}
