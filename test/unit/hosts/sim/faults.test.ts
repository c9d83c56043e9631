import { describe, expect, it } from 'vitest';

import {
  HostApiError,
  HostOperationError,
  HostTimeoutError,
  HostUnreachableError,
  isTransientHostError,
} from '../../../../src/hosts/errors.js';
import { SwarmError, readLocalSwarmState, waitForDocker } from '../../../../src/swarm/index.js';
import { bootSimNodes, fastWorld, serveTls, simBay, simNodeSpec } from '../../../support/sim/index.js';

describe('an unreachable host', () => {
  it('fails every call with HostUnreachableError naming host, operation and node, until it is back', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    world.setHostReachable('h1', false);

    const failure = provider.getNode('web-0');
    await expect(failure).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(failure).rejects.toThrow(/get-node of node web-0 on host h1/);
    await expect(provider.probe()).rejects.toBeInstanceOf(HostUnreachableError);
    await expect(provider.observe()).rejects.toSatisfy(isTransientHostError);

    world.setHostReachable('h1', true);
    expect(await provider.getNode('web-0')).toBeUndefined();
  });

  it('that goes away while a call is under way fails that call', async () => {
    const world = fastWorld({ latency: { list: 30 } });
    const listing = world.provider('h1').listNodes({});
    setTimeout(() => world.setHostReachable('h1', false), 5);

    await expect(listing).rejects.toBeInstanceOf(HostUnreachableError);
  });
});

describe('injected host faults', () => {
  it('fail the matching call once by default, as the LXD provider would throw', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('once'), 0);
    world.injectFault({
      host: 'h1',
      operation: 'ensure-node',
      kind: 'operation-failed',
      message: 'Failed creating instance record',
    });

    await expect(provider.ensureNode(spec)).rejects.toBeInstanceOf(HostOperationError);
    expect(await provider.getNode(spec.name)).toBeUndefined();
    expect((await provider.ensureNode(spec)).created).toBe(true);
  });

  it('map each kind to its error class; api carries its status', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    world.injectFault({ operation: 'list-nodes', kind: 'timeout' });
    world.injectFault({ operation: 'list-nodes', kind: 'api', status: 503, message: 'overloaded' });
    world.injectFault({ operation: 'list-nodes', kind: 'unreachable' });

    await expect(provider.listNodes({})).rejects.toBeInstanceOf(HostTimeoutError);
    await expect(provider.listNodes({})).rejects.toSatisfy((e) => e instanceof HostApiError && e.status === 503);
    await expect(provider.listNodes({})).rejects.toBeInstanceOf(HostUnreachableError);
    expect(await provider.listNodes({})).toEqual([]);
  });

  it('match by host, operation and node, and repeat as often as told', async () => {
    const world = fastWorld();
    const bay = simBay('match');
    const provider = world.provider('h1');
    await provider.ensureNode(simNodeSpec(bay, 0));
    await provider.ensureNode(simNodeSpec(bay, 1));
    const fault = world.injectFault({
      host: 'h1',
      operation: 'start-node',
      node: `${bay.bayName}-1`,
      kind: 'unreachable',
      times: 2,
    });

    await provider.startNode(`${bay.bayName}-0`);
    await expect(provider.startNode(`${bay.bayName}-1`)).rejects.toBeInstanceOf(HostUnreachableError);
    expect(fault).toMatchObject({ fired: 1, remaining: 1 });
    await expect(provider.startNode(`${bay.bayName}-1`)).rejects.toBeInstanceOf(HostUnreachableError);
    await provider.startNode(`${bay.bayName}-1`);
    expect(fault.remaining).toBe(0);
  });

  it('a repeated fault lasts until cleared', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const fault = world.injectFault({ operation: 'observe', kind: 'timeout', times: Infinity });

    for (let i = 0; i < 3; i++) await expect(provider.observe()).rejects.toBeInstanceOf(HostTimeoutError);
    fault.clear();
    await provider.observe();
  });

  it('after the work is done: a host failing mid-create leaves the node, which the next ensure adopts', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('midcreate'), 0);
    world.injectFault({ host: 'h1', operation: 'ensure-node', kind: 'unreachable', when: 'after' });

    await expect(provider.ensureNode(spec)).rejects.toBeInstanceOf(HostUnreachableError);

    expect((await provider.getNode(spec.name))?.status).toBe('stopped');
    expect(await provider.ensureNode(spec)).toMatchObject({ created: false, drift: [] });
  });
});

describe("changes behind marina's back", () => {
  it('an instance deleted on the host is gone for the provider', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('deleted'), 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    expect(world.deleteInstance('h1', spec.name)).toBe(true);

    expect(await provider.getNode(spec.name)).toBeUndefined();
    expect(await provider.deleteNode(spec.name)).toBe(false);
  });

  it('an instance stopped on the host shows stopped, its dockerd unreachable', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('stopped'), 1);
    await serveTls(provider, node!);

    world.stopInstance('h1', node!.name);

    expect((await provider.getNode(node!.name))?.status).toBe('stopped');
    const error = await readLocalSwarmState(node!.client).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SwarmError);
    expect(error).toMatchObject({ code: 'unreachable', message: expect.stringContaining('ECONNREFUSED') });
  });

  it('a killed dockerd stays down until docker.service is restarted in the node', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('killed'), 1);
    await serveTls(provider, node!);

    world.killDockerd('h1', node!.name);

    await expect(waitForDocker(node!.client, new Date(Date.now() + 50), { intervalMs: 10 })).rejects.toMatchObject({
      code: 'timeout',
    });
    expect((await provider.exec(node!.name, ['systemctl', 'is-active', 'docker'])).exitCode).toBe(3);
    await provider.exec(node!.name, ['systemctl', 'restart', 'docker.service']);
    expect((await readLocalSwarmState(node!.client)).state).toBe('inactive');
  });

  it('a killed dockerd comes back when its node restarts', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('reboot'), 1);
    await serveTls(provider, node!);
    world.killDockerd('h1', node!.name);

    await provider.stopNode(node!.name);
    await provider.startNode(node!.name);

    expect((await readLocalSwarmState(node!.client)).state).toBe('inactive');
  });

  it('dockerd failures injected by address and route answer like dockerd or the network would', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const [node] = await bootSimNodes(world, provider, simBay('dockerfault'), 1);
    await serveTls(provider, node!);
    world.injectDockerFault({
      address: node!.address,
      route: 'GET /info',
      kind: 'status',
      status: 500,
      message: 'boom',
    });
    world.injectDockerFault({ address: node!.address, route: 'GET /info', kind: 'reset' });
    world.injectDockerFault({ address: node!.address, kind: 'hang' });

    await expect(readLocalSwarmState(node!.client)).rejects.toMatchObject({
      code: 'api',
      statusCode: 500,
      message: expect.stringContaining('boom'),
    });
    await expect(readLocalSwarmState(node!.client)).rejects.toMatchObject({ code: 'unreachable' });
    const hung = world.dockerClient(node!.address, { timeoutMs: 20 });
    await expect(readLocalSwarmState(hung)).rejects.toMatchObject({
      code: 'unreachable',
      message: expect.stringContaining('ECONNRESET'),
    });
    expect((await readLocalSwarmState(node!.client)).state).toBe('inactive');
  });
});
