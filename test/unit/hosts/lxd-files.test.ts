import { describe, expect, it } from 'vitest';
import { parentsOfAll } from '../../../src/hosts/lxd/files.js';
import { dockerdFiles } from '../../../src/swarm/index.js';

describe('files pushed together into a node', () => {
  it('make each parent directory once, after its own parent', () => {
    const files = dockerdFiles({ caPems: ['ca'], certPem: 'cert', keyPem: 'key' });
    expect(parentsOfAll(files)).toEqual([
      '/etc',
      '/etc/docker',
      '/etc/systemd',
      '/etc/systemd/system',
      '/etc/systemd/system/docker.service.d',
    ]);
  });

  it('make none for files that do not ask for their parents', () => {
    expect(parentsOfAll([{ path: '/etc/hostname' }, { path: '/srv/a/b', createParents: false }])).toEqual([]);
    expect(parentsOfAll([{ path: '/srv/a/b', createParents: true }, { path: '/srv/a/c/d', createParents: true }])).toEqual([
      '/srv',
      '/srv/a',
      '/srv/a/c',
    ]);
  });
});
