import { describe, expect, it } from 'vitest';

import {
  HostApiError,
  HostAuthError,
  HostTimeoutError,
  InvalidNodeSpecError,
  NodeConflictError,
  NodeNotFoundError,
} from '../../../../src/hosts/errors.js';
import { OWNERSHIP_KEYS } from '../../../../src/hosts/ownership.js';
import { SimWorld } from '../../../../src/hosts/sim/index.js';
import type { NodeSpec } from '../../../../src/hosts/types.js';
import { waitForNodeAddress } from '../../../../src/hosts/wait.js';
import { SIM_BRIDGE, SIM_FLAVOR, SIM_IMAGE, fastWorld, simBay, simNodeSpec } from '../../../support/sim/index.js';

/**
 * The HostProvider contract, as test/e2e/hosts/lxd-provider.test.ts checks it against real LXD,
 * checked against a simulated host: same semantics, same error classes.
 */
describe('a simulated host', () => {
  it('a probe names the daemon, says it trusts marina and what it says of its machine', async () => {
    const identity = await fastWorld().provider('h1').probe();

    expect(identity).toEqual({
      server: 'lxd',
      version: expect.stringMatching(/^\d+\.\d+/),
      trusted: true,
      environment: expect.objectContaining({ storageDriver: 'btrfs', cgroup2: true }),
    });
  });

  it('creates a node from the image, stopped, carrying its ownership and limits', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('create'), 0);

    const { node, created, drift } = await provider.ensureNode(spec);

    expect(created).toBe(true);
    expect(drift).toEqual([]);
    expect(node).toMatchObject({
      name: spec.name,
      host: 'h1',
      status: 'stopped',
      ownership: spec.ownership,
      ipv4Address: undefined,
    });
    expect(node.limits).toMatchObject(SIM_FLAVOR);
    expect(node.imageFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(node.createdAt).toBeInstanceOf(Date);
  });

  it('writes the hostname before the first boot', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('hostname'), 0);
    await provider.ensureNode(spec);

    expect(world.readFile('h1', spec.name, '/etc/hostname')).toBe(`${spec.name}\n`);
    await provider.startNode(spec.name);
    expect((await provider.exec(spec.name, ['hostname'])).stdout.trim()).toBe(spec.name);
  });

  it('starts the node: it gets an address on the host bridge and docker runs inside', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('start'), 0);
    await provider.ensureNode(spec);

    await provider.startNode(spec.name);
    const node = await waitForNodeAddress(provider, spec.name, { timeoutMs: 1_000 });

    const bridge = await provider.getBridge(SIM_BRIDGE);
    expect(bridge).toMatchObject({ name: SIM_BRIDGE, managed: true });
    expect(inCidr(node.ipv4Address, bridge?.ipv4Cidr ?? '')).toBe(true);
    expect((await provider.exec(spec.name, ['systemctl', 'is-active', 'docker'])).stdout.trim()).toBe('active');
  });

  it('creating a node twice adopts the existing instance', async () => {
    const provider = fastWorld().provider('h1');
    const bay = simBay('adopt');
    const spec = simNodeSpec(bay, 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    const { node, created, drift } = await provider.ensureNode(spec);

    expect(created).toBe(false);
    expect(drift).toEqual([]);
    expect(node.status).toBe('running');
    expect((await provider.listNodes({ bayUid: bay.bayUid })).map((n) => n.name)).toEqual([spec.name]);
  });

  it('a node of another bay is never adopted: NodeConflictError', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('mine'), 0);
    await provider.ensureNode(spec);
    const impostor: NodeSpec = { ...spec, ownership: { ...simBay('theirs'), index: 0, role: 'manager' } };

    await expect(provider.ensureNode(impostor)).rejects.toBeInstanceOf(NodeConflictError);
    await expect(provider.ensureNode(impostor)).rejects.toThrow(/taken by node 0 of bay team-sim\/mine-/);
  });

  it('a released node is never adopted again, not even by its own bay', async () => {
    const provider = fastWorld().provider('h1');
    const bay = simBay('released');
    const spec = simNodeSpec(bay, 0);
    await provider.ensureNode(spec);

    expect(await provider.releaseNode(spec.name)).toBe(true);

    await expect(provider.ensureNode(spec)).rejects.toThrow(/released from its bay/);
    expect(await provider.listNodes({ bayUid: bay.bayUid })).toEqual([]);
    expect(await provider.releaseNode('nobody-0')).toBe(false);
  });

  it('an instance marina does not manage is never adopted', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('foreign'), 0);
    world.addForeignInstance('h1', { name: spec.name, cpu: 1 });

    await expect(provider.ensureNode(spec)).rejects.toThrow(/an instance marina does not manage/);
  });

  it("listing by ownership finds exactly the bay's nodes", async () => {
    const provider = fastWorld().provider('h1');
    const bay = simBay('list');
    const other = simBay('other');
    for (const spec of [simNodeSpec(bay, 0), simNodeSpec(bay, 1), simNodeSpec(other, 0)]) {
      await provider.ensureNode(spec);
    }

    const names = async (selector: Parameters<typeof provider.listNodes>[0]): Promise<string[]> =>
      (await provider.listNodes(selector)).map((node) => node.name);
    expect(await names({ bayUid: bay.bayUid })).toEqual([`${bay.bayName}-0`, `${bay.bayName}-1`]);
    expect(await names({ bayUid: bay.bayUid, role: 'worker' })).toEqual([`${bay.bayName}-1`]);
    expect(await names({ bayUid: other.bayUid })).toEqual([`${other.bayName}-0`]);
  });

  it('a pushed file arrives with its content, mode and owner, and parents only when asked', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('files'), 0);
    await provider.ensureNode(spec);
    const path = '/etc/marina/probe/secret.pem';

    await expect(provider.pushFiles(spec.name, [{ path, content: 'x', mode: 0o600 }])).rejects.toMatchObject({
      status: 404,
    });
    await provider.pushFiles(spec.name, [{ path, content: 'not a real key\n', mode: 0o600, createParents: true }]);
    expect(world.instance('h1', spec.name)?.files.get(path)).toEqual({
      content: 'not a real key\n',
      mode: 0o600,
      uid: 0,
      gid: 0,
    });

    await provider.pushFiles(spec.name, [
      { path, content: new TextEncoder().encode('replaced\n'), mode: 0o644, uid: 65534, gid: 65534 },
    ]);
    expect(world.instance('h1', spec.name)?.files.get(path)).toEqual({
      content: 'replaced\n',
      mode: 0o644,
      uid: 65534,
      gid: 65534,
    });
    await provider.startNode(spec.name);
    expect((await provider.exec(spec.name, ['cat', path])).stdout).toBe('replaced\n');
  });

  it('exec runs only in a running node, and says so for one that does not exist', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('exec'), 0);
    await provider.ensureNode(spec);

    await expect(provider.exec(spec.name, ['true'])).rejects.toBeInstanceOf(HostApiError);
    await expect(provider.exec('nobody-0', ['true'])).rejects.toBeInstanceOf(NodeNotFoundError);
    await provider.startNode(spec.name);
    expect(await provider.exec(spec.name, ['sh', '-c', 'anything'])).toEqual({ exitCode: 0, stdout: '', stderr: '' });
  });

  it('a command that outlives its deadline fails with a timeout naming the node', async () => {
    const world = fastWorld({ latency: { exec: 200 } });
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('slow'), 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    const failure = provider.exec(spec.name, ['sleep', '10'], { timeoutMs: 20 });

    await expect(failure).rejects.toBeInstanceOf(HostTimeoutError);
    await expect(failure).rejects.toMatchObject({ instance: spec.name, operation: 'exec', host: 'h1' });
  });

  it('stopping and starting are idempotent, and a node keeps its address across restarts', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('restart'), 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);
    const address = (await provider.getNode(spec.name))?.ipv4Address;

    await provider.stopNode(spec.name, { timeoutSeconds: 20 });
    await provider.stopNode(spec.name);
    expect(await provider.getNode(spec.name)).toMatchObject({ status: 'stopped', ipv4Address: undefined });

    await provider.startNode(spec.name);
    await provider.startNode(spec.name);
    expect(await provider.getNode(spec.name)).toMatchObject({ status: 'running', ipv4Address: address });
  });

  it('a node created again under the same name gets a new address', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('again'), 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);
    const first = (await provider.getNode(spec.name))?.ipv4Address;

    await provider.deleteNode(spec.name);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    expect((await provider.getNode(spec.name))?.ipv4Address).not.toBe(first);
  });

  it('a fixed address is the DHCP reservation the node boots with, and must lie on the bridge', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const bay = simBay('fixed');
    const address = world.bridgeCidr('h1').replace(/\.1\/\d+$/, '.200');
    const spec = simNodeSpec(bay, 0, { network: { bridge: SIM_BRIDGE, ipv4Address: address } });
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    expect((await provider.getNode(spec.name))?.ipv4Address).toBe(address);
    const twin = simNodeSpec(bay, 1, { network: { bridge: SIM_BRIDGE, ipv4Address: address } });
    await expect(provider.ensureNode(twin)).rejects.toThrow(/already defined on another NIC/);
    const outside = simNodeSpec(bay, 2, { network: { bridge: SIM_BRIDGE, ipv4Address: '192.0.2.10' } });
    await expect(provider.ensureNode(outside)).rejects.toThrow(/not within network/);
  });

  it('deleting a node is idempotent, running or not', async () => {
    const provider = fastWorld().provider('h1');
    const bay = simBay('delete');
    await provider.ensureNode(simNodeSpec(bay, 0));
    await provider.ensureNode(simNodeSpec(bay, 1));
    await provider.startNode(`${bay.bayName}-0`);

    expect(await provider.deleteNode(`${bay.bayName}-0`)).toBe(true);
    expect(await provider.deleteNode(`${bay.bayName}-1`)).toBe(true);
    expect(await provider.deleteNode(`${bay.bayName}-1`)).toBe(false);
    expect(await provider.getNode(`${bay.bayName}-0`)).toBeUndefined();
    expect(await provider.listNodes({ bayUid: bay.bayUid })).toEqual([]);
  });

  it('refuses a spec no host could satisfy without calling the host', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('invalid'), 0, { flavor: { ...SIM_FLAVOR, cpu: 0 } });

    await expect(provider.ensureNode(spec)).rejects.toBeInstanceOf(InvalidNodeSpecError);
    expect(world.callCount('h1')).toBe(0);
  });

  it('refuses a bridge the host does not have, and reports an image alias it lacks', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const bay = simBay('missing');
    world.setBridgeMissing('h1', 'nobr0');
    world.removeImage('marina-node/gone');

    await expect(provider.ensureNode(simNodeSpec(bay, 0, { network: { bridge: 'nobr0' } }))).rejects.toBeInstanceOf(
      InvalidNodeSpecError,
    );
    expect(await provider.getBridge('nobr0')).toBeUndefined();
    await expect(provider.ensureNode(simNodeSpec(bay, 1, { image: 'marina-node/gone' }))).rejects.toMatchObject({
      status: 404,
    });
    expect(await provider.findImage('marina-node/gone')).toBeUndefined();
    expect(await provider.findImage(SIM_IMAGE)).toEqual({
      alias: SIM_IMAGE,
      fingerprint: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
  });

  it('an untrusted host answers probes and refuses everything else', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    world.setHostTrusted('h1', false);

    expect((await provider.probe()).trusted).toBe(false);
    await expect(provider.listNodes({})).rejects.toBeInstanceOf(HostAuthError);
  });

  it('two providers of one host see one state', async () => {
    const world = fastWorld();
    const spec = simNodeSpec(simBay('shared'), 0);
    await world.provider('h1').ensureNode(spec);

    expect((await world.provider('h1', { storagePool: 'other' }).getNode(spec.name))?.name).toBe(spec.name);
    expect(await world.provider('h2').getNode(spec.name)).toBeUndefined();
  });

  it('two creators racing for one name make one instance; both get it', async () => {
    const world = fastWorld({ latency: { create: 10 } });
    const spec = simNodeSpec(simBay('race'), 0);

    const [a, b] = await Promise.all([world.provider('h1').ensureNode(spec), world.provider('h1').ensureNode(spec)]);

    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(world.instances('h1')).toHaveLength(1);
  });

  it('creations through one provider run one at a time, like the LXD provider', async () => {
    const world = new SimWorld({ latency: { create: 20, other: 0, file: 0 } });
    const provider = world.provider('h1');
    const bay = simBay('serial');
    const started = Date.now();

    await Promise.all([0, 1, 2].map((index) => provider.ensureNode(simNodeSpec(bay, index))));

    expect(Date.now() - started).toBeGreaterThanOrEqual(55);
  });

  it('stores ownership as user.marina.* keys on the instance', async () => {
    const world = fastWorld();
    const spec = simNodeSpec(simBay('keys'), 3);
    await world.provider('h1').ensureNode(spec);

    const config = world.instance('h1', spec.name)?.config ?? {};
    expect(config[OWNERSHIP_KEYS.bayUid]).toBe(spec.ownership.bayUid);
    expect(config[OWNERSHIP_KEYS.index]).toBe('3');
    expect(config['limits.cpu']).toBe('2');
  });
});

function inCidr(address: string, cidr: string): boolean {
  const [network = '', bits = '32'] = cidr.split('/');
  const toInt = (ip: string): number => ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
  const size = 2 ** (32 - Number(bits));
  return Math.floor(toInt(address) / size) === Math.floor(toInt(network) / size);
}
