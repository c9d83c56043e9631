import { describe, expect, it } from 'vitest';
import { configuredInstances, sumAllocations } from '../../../src/hosts/lxd/capacity.js';

const node = (name: string, cpu: string) => ({
  name,
  status: 'Running',
  status_code: 103,
  config: { 'limits.cpu': cpu, 'limits.memory': '512MiB' },
  devices: { root: { type: 'disk', path: '/', pool: 'default', size: '2GiB' } },
});

describe("a host's instance listing", () => {
  it('leaves out an instance listed while it was being deleted (no config), and counts the others', () => {
    // What Incus answered mid-deletion: the entry is there, its configuration and devices are not.
    const vanishing = { name: 'going', status: 'Stopped', status_code: 102, config: null, devices: null };
    const listed = configuredInstances([node('a', '1'), vanishing, node('b', '2')]);
    expect(listed.map((i) => i.name)).toEqual(['a', 'b']);
    const allocated = sumAllocations(listed, 8 * 2 ** 30);
    expect(allocated).toMatchObject({ cpu: 3, memoryBytes: 2 * 512 * 2 ** 20, instances: 2, unlimitedInstances: 0 });
  });
});
