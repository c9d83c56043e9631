import { describe, expect, it } from 'vitest';

import { describeDrift } from '../../../../src/hosts/drift.js';
import { HostOperationError, NodeBusyError, NodeConflictError } from '../../../../src/hosts/errors.js';
import { SWARM_KERNEL_MODULES } from '../../../../src/hosts/lxd/node-config.js';
import { SIM_FLAVOR, SIM_IMAGE, fastWorld, simBay, simNodeSpec } from '../../../support/sim/index.js';

const GiB = 1024 ** 3;

describe('drift of an adopted node and its repair', () => {
  it('an adopted node reports where its instance differs from the spec', async () => {
    const provider = fastWorld().provider('h1');
    const bay = simBay('drift');
    await provider.ensureNode(simNodeSpec(bay, 0));

    const { created, drift } = await provider.ensureNode(
      simNodeSpec(bay, 0, { flavor: { ...SIM_FLAVOR, cpu: 4, memoryBytes: 8 * GiB } }),
    );

    expect(created).toBe(false);
    expect(describeDrift(drift)).toBe('cpu (2 → 4), memory (4294967296 → 8589934592)');
  });

  it("the host's wanted kernel modules are the provider's: another list is drift", async () => {
    const world = fastWorld();
    const bay = simBay('modules');
    await world.provider('h1').ensureNode(simNodeSpec(bay, 0));

    const { drift } = await world.provider('h1', { kernelModules: ['overlay'] }).ensureNode(simNodeSpec(bay, 0));

    expect(drift).toEqual([
      { setting: 'kernel-modules', actual: [...SWARM_KERNEL_MODULES].sort().join(','), wanted: 'overlay' },
    ]);
  });

  it('an image alias that now points elsewhere is drift, and reconfiguring makes the node anew from it', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const spec = simNodeSpec(simBay('image'), 0);
    const before = (await provider.ensureNode(spec)).node;
    const uid = world.instance('h1', spec.name)?.uid;
    world.setImage(SIM_IMAGE, 'ab'.repeat(32));

    const { drift } = await provider.ensureNode(spec);
    expect(drift.map((d) => d.setting)).toEqual(['image']);

    const repaired = await provider.reconfigureNode(spec);
    expect(repaired).toMatchObject({ created: true, drift: [] });
    expect(repaired.node.imageFingerprint).toBe('ab'.repeat(32));
    expect(before.imageFingerprint).not.toBe(repaired.node.imageFingerprint);
    expect(world.instance('h1', spec.name)?.uid).not.toBe(uid);
    expect((await provider.ensureNode(spec)).drift).toEqual([]);
  });

  it('reconfiguring changes a stopped node in place to what the spec asks', async () => {
    const world = fastWorld();
    const provider = world.provider('h1');
    const bay = simBay('inplace');
    await provider.ensureNode(simNodeSpec(bay, 0));
    const bigger = simNodeSpec(bay, 0, { flavor: { cpu: 4, memoryBytes: 8 * GiB, diskBytes: 40 * GiB } });
    const uid = world.instance('h1', bigger.name)?.uid;

    const { node, created } = await provider.reconfigureNode(bigger);

    expect(created).toBe(false);
    expect(node.limits).toMatchObject(bigger.flavor);
    expect(world.instance('h1', bigger.name)?.uid).toBe(uid);
    expect((await provider.ensureNode(bigger)).drift).toEqual([]);
  });

  it('a running node is not reconfigured: NodeBusyError', async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('busy'), 0);
    await provider.ensureNode(spec);
    await provider.startNode(spec.name);

    await expect(provider.reconfigureNode(spec)).rejects.toBeInstanceOf(NodeBusyError);
  });

  it("another bay's node is not reconfigured: NodeConflictError", async () => {
    const provider = fastWorld().provider('h1');
    const spec = simNodeSpec(simBay('mine'), 0);
    await provider.ensureNode(spec);

    await expect(
      provider.reconfigureNode({ ...spec, ownership: { ...simBay('theirs'), index: 0, role: 'manager' } }),
    ).rejects.toBeInstanceOf(NodeConflictError);
  });

  it('a node asking for a module the host lacks fails to start as on LXD; dropping the module repairs it', async () => {
    const world = fastWorld({ hosts: { h1: { missingModules: ['xt_ipvs'] } } });
    const spec = simNodeSpec(simBay('nomodule'), 0);
    await world.provider('h1').ensureNode(spec);

    const failure = world.provider('h1').startNode(spec.name);
    await expect(failure).rejects.toBeInstanceOf(HostOperationError);
    await expect(failure).rejects.toThrow(/Failed to load kernel module 'xt_ipvs'/);
    expect((await world.provider('h1').getNode(spec.name))?.status).toBe('stopped');

    const builtIn = world.provider('h1', { kernelModules: SWARM_KERNEL_MODULES.filter((m) => m !== 'xt_ipvs') });
    await builtIn.reconfigureNode(spec);
    await builtIn.startNode(spec.name);
    expect((await builtIn.getNode(spec.name))?.status).toBe('running');
  });

  it('a host that declares what it can load refuses any other module', async () => {
    const world = fastWorld({ hosts: { h1: { loadableModules: ['overlay', 'bridge'] } } });
    const spec = simNodeSpec(simBay('loadable'), 0);
    await world.provider('h1', { kernelModules: ['overlay', 'vxlan'] }).ensureNode(spec);

    await expect(world.provider('h1').startNode(spec.name)).rejects.toThrow(/kernel module 'vxlan'/);
    await world.provider('h1', { kernelModules: [] }).reconfigureNode(spec);
    await world.provider('h1').startNode(spec.name);
  });
});
