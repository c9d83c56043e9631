import { describe, expect, it } from 'vitest';
import { ManifestValidator } from '../../../src/api/validate.js';
import { hostNotes, localAggregateYaml, type LocalHost } from '../../../src/playground/host.js';

const host = (over: Partial<LocalHost> = {}): LocalHost => ({
  socket: 'unix:///var/lib/lxd/unix.socket',
  bridge: 'marinapg0',
  pool: 'default',
  lxcfs: true,
  moduleLoading: true,
  missingModules: [],
  ...over,
});

describe("the playground's HostAggregate follows what the host can do", () => {
  it('lists no kernel modules where the kernel cannot load any, and keeps the default where it can', () => {
    expect(localAggregateYaml(host({ moduleLoading: false }))).toContain('kernelModules: []');
    expect(localAggregateYaml(host())).not.toContain('kernelModules');
  });

  it('is a HostAggregate the CRD schema accepts', () => {
    const report = new ManifestValidator().validateText(localAggregateYaml(host({ moduleLoading: false })));
    expect(report.problems).toEqual([]);
    expect(report.documents.map((d) => d.object)).toEqual(['HostAggregate playground']);
  });

  it('tells a newcomer what the host lacks: module loading, ip_vs for the routing mesh, lxcfs', () => {
    expect(hostNotes(host())).toEqual([]);
    const notes = hostNotes(host({ moduleLoading: false, missingModules: ['ip_vs', 'vxlan'], lxcfs: false }));
    expect(notes).toHaveLength(4);
    expect(notes.join('\n')).toMatch(/cannot load modules/);
    expect(notes.join('\n')).toMatch(/no ip_vs: the swarm routing mesh .* mode=host/);
    expect(notes.join('\n')).toMatch(/no vxlan: overlay networks between nodes do not work/);
    expect(notes.join('\n')).toMatch(/no lxcfs/);
  });
});
