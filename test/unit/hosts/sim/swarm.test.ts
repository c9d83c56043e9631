import { describe, expect, it } from 'vitest';

import {
  SwarmError,
  bindNode,
  caRotationStatus,
  demote,
  dockerdFiles,
  drainNode,
  initSwarm,
  inspectSwarmNode,
  joinSwarm,
  joinTokens,
  listSwarmNodes,
  promote,
  pushDockerdFiles,
  readLocalSwarmState,
  removeNode,
  restartDockerd,
  rotateSwarmCa,
  setAvailability,
  swarmCaRotationDone,
  updateNodeSpec,
  usage,
  waitForDocker,
  type DockerClient,
  type SwarmNode,
  type WireNode,
  type WireSwarm,
} from '../../../../src/swarm/index.js';
import { waitFor } from '../../../support/processes.js';
import {
  bootSimNodes,
  fakeTlsMaterial,
  fastWorld,
  serveTls,
  simBay,
  simNodeSpec,
  simSwarm,
} from '../../../support/sim/index.js';

const MiB = 1024 ** 2;

/**
 * The real swarm layer (src/swarm, through dockerode) against simulated dockerds: what
 * test/e2e/swarm/swarm.test.ts proves against real nodes, run here in milliseconds so orchestration
 * tests and the fleet benchmark can rely on the simulation answering the same way.
 */
describe("a simulated node's dockerd", () => {
  it('answers only on its unix socket until marina configures TLS: 2376 refuses connections', async () => {
    const world = fastWorld();
    const [node] = await bootSimNodes(world, world.provider('h1'), simBay('plain'), 1);

    const error = (await readLocalSwarmState(node!.client).catch((e: unknown) => e)) as SwarmError;

    expect(error).toBeInstanceOf(SwarmError);
    expect(error.code).toBe('unreachable');
    expect(error.message).toContain(`ECONNREFUSED ${node!.address}:2376`);
  });

  it('serves TLS on 2376 after applyDockerdTls pushed its files and restarted it', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('tls'), 1);

    await serveTls(provider, node!);

    expect(await waitForDocker(node!.client, new Date(Date.now() + 1_000))).toEqual({
      version: '20.10.24+dfsg1',
      apiVersion: '1.41',
    });
    expect(JSON.parse(world.readFile('h1', node!.name, '/etc/docker/daemon.json') ?? '{}')).toMatchObject({
      tlsverify: true,
    });
    expect(world.instance('h1', node!.name)?.files.get('/etc/docker/server-key.pem')?.mode).toBe(0o600);
  });

  it('pushed files take effect only when dockerd restarts', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('norestart'), 1);

    await pushDockerdFiles(bindNode(provider, node!.name), dockerdFiles(fakeTlsMaterial(node!.name)));
    await expect(readLocalSwarmState(node!.client)).rejects.toMatchObject({ code: 'unreachable' });

    await restartDockerd(bindNode(provider, node!.name), node!.client);
    expect((await readLocalSwarmState(node!.client)).state).toBe('inactive');
  });

  it('a node started after its files were pushed serves TLS from its first boot', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('firstboot'), 0);
    await provider.ensureNode(spec);
    await pushDockerdFiles(bindNode(provider, spec.name), dockerdFiles(fakeTlsMaterial(spec.name)));

    await provider.startNode(spec.name);

    const address = (await provider.getNode(spec.name))!.ipv4Address!;
    expect(await waitForDocker(world.dockerClient(address), new Date(Date.now() + 1_000))).toMatchObject({
      apiVersion: '1.41',
    });
  });

  it('without daemon-reload the drop-in is not in force: dockerd refuses `hosts`, the journal says why', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('reload'), 1);
    await pushDockerdFiles(bindNode(provider, node!.name), dockerdFiles(fakeTlsMaterial(node!.name)));

    const restart = await provider.exec(node!.name, ['systemctl', 'restart', 'docker.service']);

    expect(restart.exitCode).toBe(1);
    expect(restart.stderr).toContain('Job for docker.service failed');
    expect((await provider.exec(node!.name, ['journalctl', '--unit', 'docker.service'])).stdout).toContain(
      'the following directives are specified both as a flag and in the configuration file: hosts',
    );
    await restartDockerd(bindNode(provider, node!.name), node!.client);
    expect((await readLocalSwarmState(node!.client)).state).toBe('inactive');
  });

  it('a daemon.json dockerd cannot read makes restartDockerd fail with the journal in its message', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('badjson'), 1);
    await provider.pushFiles(node!.name, [{ path: '/etc/docker/daemon.json', content: '{"tlsverify": tru', mode: 0o644 }]);

    const error = (await restartDockerd(bindNode(provider, node!.name), node!.client).catch(
      (e: unknown) => e,
    )) as SwarmError;

    expect(error.code).toBe('node-setup');
    expect(error.message).toContain('unable to configure the Docker daemon with file /etc/docker/daemon.json');
  });

  it('answers once it has booted, some time after its node started', async () => {
    const world = fastWorld({ docker: { bootMs: 100 } });
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('boot'), 1);
    await pushDockerdFiles(bindNode(provider, node!.name), dockerdFiles(fakeTlsMaterial(node!.name)));
    await provider.exec(node!.name, ['systemctl', 'daemon-reload']);
    await provider.exec(node!.name, ['systemctl', 'restart', 'docker.service']);

    await expect(readLocalSwarmState(node!.client)).rejects.toMatchObject({ code: 'unreachable' });
    await waitForDocker(node!.client, new Date(Date.now() + 1_000), { intervalMs: 20 });
  });

  it('waiting for a dockerd that is gone ends at the deadline with the endpoint named', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('gone'), 1);
    await serveTls(provider, node!);
    await provider.deleteNode(node!.name);

    const error = (await waitForDocker(node!.client, new Date(Date.now() + 50), { intervalMs: 10 }).catch(
      (e: unknown) => e,
    )) as SwarmError;

    expect(error.code).toBe('timeout');
    expect(error.message).toContain(`${node!.address}:2376`);
  });
});

describe('a swarm of simulated nodes', () => {
  it('swarm init makes the first node a manager, and doing it again changes nothing', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('init'), 1);
    await serveTls(provider, node!);

    const first = await initSwarm(node!.client, node!.address);
    expect(first).toMatchObject({ isManager: true, changed: true, clusterId: expect.stringMatching(/^[0-9a-z]{25}$/) });
    expect(await initSwarm(node!.client, node!.address)).toEqual({ ...first, changed: false });
  });

  it('managers join one at a time and workers in parallel; the listing shows who leads, at which address', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('join'), 5, 3);

    const listed = await listSwarmNodes(nodes[0]!.client);

    expect(listed.map(summary)).toEqual(
      nodes.map((node, i) => ({
        id: ids[i],
        hostname: node.name,
        role: i < 3 ? 'manager' : 'worker',
        availability: 'active',
        state: 'ready',
        managerReachability: i < 3 ? 'reachable' : undefined,
        leader: i === 0,
        addr: node.address,
      })),
    );
    for (const node of listed) expect(node.nanoCpus).toBe(2e9);
  });

  it('join tokens look like SwarmKit tokens and decide the role; joining again changes nothing', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [manager, worker] = await bootSimNodes(world, provider, simBay('tokens'), 2);
    await Promise.all([manager!, worker!].map((node) => serveTls(provider, node)));
    await initSwarm(manager!.client, manager!.address);

    const tokens = await joinTokens(manager!.client);
    expect(tokens.worker).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    expect(tokens.manager).not.toBe(tokens.worker);
    const request = { advertiseAddr: worker!.address, remoteAddrs: [manager!.address], token: tokens.worker };
    const joined = await joinSwarm(worker!.client, request);
    expect(joined).toMatchObject({ isManager: false, changed: true });
    expect(await joinSwarm(worker!.client, request)).toEqual({ ...joined, changed: false });
  });

  it('a member asked to join a swarm managed elsewhere gets an other-swarm error without the token in it', async () => {
    const world = fastWorld();
    const { nodes } = await simSwarm(world, world.provider('h1'), simBay('other'), 2);
    const tokens = await joinTokens(nodes[0]!.client);

    const error = (await joinSwarm(nodes[1]!.client, {
      advertiseAddr: nodes[1]!.address,
      remoteAddrs: ['192.0.2.10'],
      token: tokens.worker,
    }).catch((e: unknown) => e)) as SwarmError;

    expect(error.code).toBe('other-swarm');
    expect(error.message).not.toContain(tokens.worker);
  });

  it("a node cannot join with another swarm's token, nor through an address where no manager answers", async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const a = await simSwarm(world, provider, simBay('a'), 1);
    const b = await simSwarm(world, provider, simBay('b'), 1);
    const [loner] = await bootSimNodes(world, provider, simBay('loner'), 1);
    await serveTls(provider, loner!);
    const tokenOfA = (await joinTokens(a.leader.client)).worker;

    const join = (remote: string) =>
      joinSwarm(loner!.client, { advertiseAddr: loner!.address, remoteAddrs: [remote], token: tokenOfA });
    await expect(join(b.leader.address)).rejects.toMatchObject({
      code: 'api',
      message: expect.stringContaining('remote CA does not match'),
    });
    await expect(join('192.0.2.10')).rejects.toMatchObject({
      code: 'api',
      message: expect.stringContaining('connection refused'),
    });
    expect((await readLocalSwarmState(loner!.client)).state).toBe('inactive');
  });

  it('each dockerd reports its own membership: managers know the cluster, workers only its managers', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('local'), 2);

    const manager = await readLocalSwarmState(nodes[0]!.client);
    const worker = await readLocalSwarmState(nodes[1]!.client);

    expect(manager).toMatchObject({
      state: 'active',
      nodeId: ids[0],
      isManager: true,
      remoteManagers: [`${nodes[0]!.address}:2377`],
    });
    expect(manager.clusterId).toBeDefined();
    expect(worker).toMatchObject({ state: 'active', nodeId: ids[1], isManager: false, clusterId: undefined });
    expect(worker.remoteManagers).toEqual([`${nodes[0]!.address}:2377`]);
  });

  it('a worker is promoted to a reachable manager and demoted back; the last manager cannot be demoted', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('promote'), 2);
    const manager = nodes[0]!.client;

    expect(await promote(manager, ids[1]!)).toBe(true);
    expect(await nodeById(manager, ids[1]!)).toMatchObject({
      role: 'manager',
      managerReachability: 'reachable',
      leader: false,
    });
    expect((await readLocalSwarmState(nodes[1]!.client)).isManager).toBe(true);

    expect(await demote(manager, ids[1]!)).toBe(true);
    expect(await nodeById(manager, ids[1]!)).toMatchObject({ role: 'worker', managerReachability: undefined });
    await expect(demote(manager, ids[0]!)).rejects.toMatchObject({ code: 'quorum' });
  });

  it('an update quoting a stale version is out of sequence; the swarm layer reads again and succeeds', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('version'), 2);
    const manager = nodes[0]!.client;
    const stale = (await inspectSwarmNode(manager, ids[1]!))!.Version!.Index!;
    await setAvailability(manager, ids[1]!, 'drain');

    const error = await manager.docker
      .getNode(ids[1]!)
      .update({ _query: { version: stale }, _body: { Role: 'worker', Availability: 'active' } })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({
      statusCode: 500,
      json: { message: expect.stringContaining('update out of sequence') },
    });

    expect(await setAvailability(manager, ids[1]!, 'active')).toBe(true);
  });

  it('draining and reactivating a node keeps the rest of its spec', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('labels'), 2);
    const manager = nodes[0]!.client;
    await updateNodeSpec(manager, ids[1]!, 'label', (spec) => ({
      ...spec,
      Labels: { ...spec.Labels, 'marina.dev/index': '1' },
    }));

    expect(await setAvailability(manager, ids[1]!, 'drain')).toBe(true);
    expect(await setAvailability(manager, ids[1]!, 'drain')).toBe(false);
    expect(await setAvailability(manager, ids[1]!, 'active')).toBe(true);
    expect((await inspectSwarmNode(manager, ids[1]!))?.Spec).toEqual({
      Labels: { 'marina.dev/index': '1' },
      Role: 'worker',
      Availability: 'active',
    });
    expect(await inspectSwarmNode(manager, 'nosuchnode')).toBeUndefined();
  });

  it('removing a node that is still up is refused; a member that is down is removed, once', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes, ids } = await simSwarm(world, provider, simBay('remove'), 2);
    const manager = nodes[0]!.client;

    await expect(removeNode(manager, ids[1]!)).rejects.toMatchObject({ code: 'invalid-state' });
    await provider.stopNode(nodes[1]!.name, { force: true });
    expect((await nodeById(manager, ids[1]!)).state).toBe('down');

    expect(await removeNode(manager, ids[1]!)).toBe(true);
    expect(await removeNode(manager, ids[1]!)).toBe(false);
    expect((await listSwarmNodes(manager)).map((node) => node.id)).toEqual([ids[0]]);
  });

  it('a manager that is down is demoted, then removed', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes, ids } = await simSwarm(world, provider, simBay('removemanager'), 3, 3);
    world.deleteInstance('h1', nodes[2]!.name);

    expect(await removeNode(nodes[0]!.client, ids[2]!, { demotionTimeoutMs: 1_000 })).toBe(true);

    const left = await listSwarmNodes(nodes[0]!.client);
    expect(left.map((node) => [node.role, node.managerReachability])).toEqual([
      ['manager', 'reachable'],
      ['manager', 'reachable'],
    ]);
  });

  it('membership survives a dockerd restart; meanwhile the member shows down and unreachable', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes, ids } = await simSwarm(world, provider, simBay('survive'), 3, 3);

    world.killDockerd('h1', nodes[1]!.name);
    expect(await nodeById(nodes[0]!.client, ids[1]!)).toMatchObject({
      state: 'down',
      managerReachability: 'unreachable',
    });

    await serveTls(provider, nodes[1]!);
    expect(await nodeById(nodes[0]!.client, ids[1]!)).toMatchObject({
      state: 'ready',
      managerReachability: 'reachable',
    });
    expect((await readLocalSwarmState(nodes[1]!.client)).nodeId).toBe(ids[1]);
  });

  it('with most managers down, manager calls fail as dockerd says; they work again when one is back', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes } = await simSwarm(world, provider, simBay('quorum'), 3, 3);
    world.killDockerd('h1', nodes[1]!.name);
    world.killDockerd('h1', nodes[2]!.name);

    const error = (await listSwarmNodes(nodes[0]!.client).catch((e: unknown) => e)) as SwarmError;
    expect(error.code).toBe('not-manager');
    expect(error.message).toContain('The swarm does not have a leader');

    await serveTls(provider, nodes[2]!);
    expect(await listSwarmNodes(nodes[0]!.client)).toHaveLength(3);
  });

  it('the swarm is forgotten once none of its members exists', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const bay = simBay('forget');
    const { nodes } = await simSwarm(world, provider, bay, 2);
    expect(world.swarmCount).toBe(1);

    for (const node of nodes) await provider.deleteNode(node.name);

    expect(world.swarmCount).toBe(0);
  });
});

describe('tasks, reservations and usage', () => {
  const reserved = (replicas: number, nanoCpus: number, memoryBytes = 32 * MiB) => ({
    TaskTemplate: {
      ContainerSpec: { Image: 'busybox' },
      Resources: { Reservations: { NanoCPUs: nanoCpus, MemoryBytes: memoryBytes } },
    },
    Mode: { Replicated: { Replicas: replicas } },
  });

  it('usage sums the reservations of running tasks against the nodes, spread over them', async () => {
    const world = fastWorld();
    const { nodes } = await simSwarm(world, world.provider('h1'), simBay('usage'), 2);
    await nodes[0]!.client.docker.createService({ Name: 'reserved', ...reserved(2, 250_000_000) });

    const result = await usage(nodes[0]!.client);

    expect(result.reserved).toEqual({ nanoCpus: 500_000_000, memoryBytes: 64 * MiB });
    expect(result.capacity.nanoCpus).toBe(4e9);
    expect(result.cpuPercent).toBe(12.5);
    expect(result.nodes.map((node) => node.tasks)).toEqual([1, 1]);
    expect(result.waiting.tasks).toBe(0);
  });

  it("a task that fits on no node waits, with SwarmKit's explanation", async () => {
    const world = fastWorld();
    const { nodes } = await simSwarm(world, world.provider('h1'), simBay('toobig'), 2);
    const manager = nodes[0]!.client;
    await manager.docker.createService({ Name: 'too-big', ...reserved(1, 4e9) });

    const result = await usage(manager);
    const [task] = (await manager.docker.listTasks({ filters: { service: ['too-big'] } })) as {
      Status: { State: string; Err: string };
    }[];

    expect(result.waiting).toEqual({ tasks: 1, reserved: { nanoCpus: 4e9, memoryBytes: 32 * MiB } });
    expect(task?.Status).toMatchObject({
      State: 'pending',
      Err: 'no suitable node (insufficient resources on 2 nodes)',
    });
  });

  it('draining a node moves its tasks elsewhere; drainNode waits until none runs there', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('drain'), 3);
    const manager = nodes[0]!.client;
    await manager.docker.createService({ Name: 'web', ...reserved(3, 100_000_000) });

    await drainNode(manager, ids[1]!, new Date(Date.now() + 1_000));

    const result = await usage(manager);
    expect(result.nodes.find((node) => node.nodeId === ids[1])).toMatchObject({ schedulable: false, tasks: 0 });
    expect(result.reserved.nanoCpus).toBe(300_000_000);
  });

  it('a node that goes down sends its tasks elsewhere; what does not fit waits', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes, ids } = await simSwarm(world, provider, simBay('failover'), 2);
    const manager = nodes[0]!.client;
    await manager.docker.createService({ Name: 'half', ...reserved(2, 1.5e9) });

    await provider.stopNode(nodes[1]!.name, { force: true });

    const result = await usage(manager);
    expect(result.nodes.find((node) => node.nodeId === ids[0])?.tasks).toBe(1);
    expect(result.waiting.tasks).toBe(1);
    await provider.startNode(nodes[1]!.name);
    expect((await usage(manager)).waiting.tasks).toBe(0);
  });

  it('a global service runs one task on each active node', async () => {
    const world = fastWorld();
    const { nodes, ids } = await simSwarm(world, world.provider('h1'), simBay('global'), 3);
    const manager = nodes[0]!.client;
    await setAvailability(manager, ids[2]!, 'drain');

    await manager.docker.createService({
      Name: 'agent',
      TaskTemplate: { ContainerSpec: { Image: 'busybox' } },
      Mode: { Global: {} },
    });

    const running = (await manager.docker.listTasks({ filters: { 'desired-state': ['running'] } })) as {
      NodeID: string;
    }[];
    expect(running.map((task) => task.NodeID).sort()).toEqual([ids[0], ids[1]].sort());
  });

  it('services are listed and removed with their tasks', async () => {
    const world = fastWorld();
    const { nodes } = await simSwarm(world, world.provider('h1'), simBay('services'), 1);
    const docker = nodes[0]!.client.docker;
    const service = await docker.createService({ Name: 'gone-soon', ...reserved(1, 0) });

    expect(((await docker.listServices()) as { Spec: { Name: string } }[]).map((s) => s.Spec.Name)).toEqual([
      'gone-soon',
    ]);
    await service.remove();
    expect(await docker.listServices()).toEqual([]);
    expect(await docker.listTasks()).toEqual([]);
    await expect(docker.createService({ Name: 'no-image', Mode: {} })).rejects.toMatchObject({ statusCode: 400 });
  });
});

describe("rotating the swarm's CA", () => {
  it('converges on every node and changes the join tokens; the old ones no longer join', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes } = await simSwarm(world, provider, simBay('rotate'), 3, 1);
    const manager = nodes[0]!.client;
    const before = await joinTokens(manager);

    expect(await rotateSwarmCa(manager)).toBe(1);
    expect((await swarmCaRotationDone(manager)).inProgress).toBe(true);
    const status = await waitFor(
      'rotation done',
      async () => ((await swarmCaRotationDone(manager)).done ? swarmCaRotationDone(manager) : undefined),
      2_000,
      20,
    );

    expect(status).toEqual({ done: true, inProgress: false, lagging: [] });
    expect((await joinTokens(manager)).worker).not.toBe(before.worker);
    const [late] = await bootSimNodes(world, provider, simBay('late'), 1);
    await serveTls(provider, late!);
    await expect(
      joinSwarm(late!.client, { advertiseAddr: late!.address, remoteAddrs: [nodes[0]!.address], token: before.worker }),
    ).rejects.toMatchObject({
      code: 'api',
    });
  });

  it('a member that is down stalls the rotation and is named lagging until it is back', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const { nodes, ids } = await simSwarm(world, provider, simBay('stall'), 2);
    const manager = nodes[0]!.client;
    world.killDockerd('h1', nodes[1]!.name);

    await rotateSwarmCa(manager);
    await new Promise((resolve) => setTimeout(resolve, 120));
    const [swarm, members] = await Promise.all([manager.docker.swarmInspect(), manager.docker.listNodes()]);
    const stalled = caRotationStatus(swarm as WireSwarm, members as WireNode[]);

    expect(stalled).toEqual({
      done: false,
      inProgress: true,
      lagging: [{ nodeId: ids[1], hostname: nodes[1]!.name, state: 'down' }],
    });
    await serveTls(provider, nodes[1]!);
    const done = await waitFor(
      'rotation done',
      async () => ((await swarmCaRotationDone(manager)).done ? true : undefined),
      2_000,
      20,
    );
    expect(done).toBe(true);
  });
});

function summary(node: SwarmNode) {
  const { id, hostname, role, availability, state, managerReachability, leader, addr } = node;
  return { id, hostname, role, availability, state, managerReachability, leader, addr };
}

async function nodeById(manager: DockerClient, id: string): Promise<SwarmNode> {
  const node = (await listSwarmNodes(manager)).find((candidate) => candidate.id === id);
  if (node === undefined) throw new Error(`node ${id} is not in the swarm`);
  return node;
}
