import { describe, expect, it } from 'vitest';
import { hostCapabilities, KernelModuleSightings } from '../../../src/controllers/aggregate/capabilities.js';
import { KERNEL_FEATURE_PROBE, type ExecResult, type HostProvider, type NodeInfo } from '../../../src/hosts/index.js';
import { testNode } from '../../support/builders.js';

const env = { storageDriver: 'btrfs', kernelVersion: '6.1.0', firewall: 'nftables', cgroup2: true };

/** A provider whose exec answers `stdout`, counting calls. */
function execHost(stdout: string | Error): HostProvider & { execs: number } {
  const host = {
    name: 'h1',
    execs: 0,
    async exec(_name: string, command: readonly string[]): Promise<ExecResult> {
      host.execs += 1;
      expect(command).toEqual(KERNEL_FEATURE_PROBE);
      if (stdout instanceof Error) throw stdout;
      return { exitCode: 0, stdout, stderr: '' };
    },
  };
  return host as unknown as HostProvider & { execs: number };
}

const running = (name: string): NodeInfo => ({ ...testNode(name), status: 'running' });

describe('what a host offers bays', () => {
  it('names every swarm feature its kernel lacks, in words, and the daemon facts as they are', () => {
    const caps = hostCapabilities(env, ['overlay', 'vxlan', 'br_netfilter']);
    expect(caps).toMatchObject({ storageDriver: 'btrfs', kernel: '6.1.0', firewall: 'nftables', cgroup2: true });
    expect(caps.kernelModules).toEqual({ present: ['br_netfilter', 'overlay', 'vxlan'], missing: ['ip_vs', 'esp4'] });
    expect(caps.warnings).toEqual([
      expect.stringMatching(/^no ip_vs: the swarm routing mesh .* mode=host$/),
      expect.stringMatching(/^no esp4 \(IPsec ESP with AES-GCM\): encrypted overlay networks cannot carry traffic/),
    ]);
  });

  it('says nothing of modules before a node has run there, and has no warnings when all is present', () => {
    expect(hostCapabilities(env, undefined).kernelModules).toBeUndefined();
    expect(hostCapabilities(env, ['ip_vs', 'br_netfilter', 'overlay', 'vxlan', 'esp4']).warnings).toBeUndefined();
    expect(hostCapabilities({ ...env, cgroup2: false }, undefined).warnings).toEqual([expect.stringContaining('cgroup v1')]);
  });
});

describe('kernel modules as a running node sees them', () => {
  it('asks one running node, then answers from memory for an hour, and again when the kernel changed', async () => {
    let now = 0;
    const sightings = new KernelModuleSightings(() => now);
    const host = execHost('overlay\nvxlan\n');
    const nodes = [{ ...testNode('a-0'), status: 'stopped' as const }, running('a-1')];
    expect(await sightings.lookup('h1', '6.1.0', host, nodes)).toEqual(['overlay', 'vxlan']);
    now = 30 * 60_000;
    await sightings.lookup('h1', '6.1.0', host, nodes);
    expect(host.execs).toBe(1);
    await sightings.lookup('h1', '6.2.0', host, nodes);
    expect(host.execs).toBe(2);
    now = 2 * 60 * 60_000;
    await sightings.lookup('h1', '6.2.0', host, nodes);
    expect(host.execs).toBe(3);
  });

  it('is unknown while no node runs, or when the first look fails', async () => {
    const sightings = new KernelModuleSightings(() => 0);
    expect(await sightings.lookup('h1', '6.1.0', execHost('ip_vs\n'), [])).toBeUndefined();
    expect(await sightings.lookup('h1', '6.1.0', execHost('ip_vs\n'), [running('a-0')])).toEqual(['ip_vs']);
    const failing = new KernelModuleSightings(() => 0);
    expect(await failing.lookup('h1', '6.1.0', execHost(new Error('exec refused')), [running('a-0')])).toBeUndefined();
  });

  it('keeps the last answer when a later look fails', async () => {
    let now = 0;
    const sightings = new KernelModuleSightings(() => now);
    expect(await sightings.lookup('h1', '6.1.0', execHost('ip_vs\n'), [running('a-0')])).toEqual(['ip_vs']);
    now = 2 * 60 * 60_000;
    const refusing = execHost(new Error('exec refused'));
    expect(await sightings.lookup('h1', '6.1.0', refusing, [running('a-0')])).toEqual(['ip_vs']);
    expect(refusing.execs).toBe(1);
  });
});
