import { describe, expect, it } from 'vitest';
import { LxdClient } from '../../../src/hosts/lxd/client.js';
import { parentsOfAll, pushFiles } from '../../../src/hosts/lxd/files.js';
import type { RawRequest, RawResponse, Transport } from '../../../src/hosts/lxd/transport.js';
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

/** Incus 6.0 at /1.0; each file call answered by the next of `answers` (then success), all recorded. */
function scriptedHost(answers: readonly string[]): { client: LxdClient; fileCalls: string[] } {
  const fileCalls: string[] = [];
  const left = [...answers];
  const reply = (status: number, envelope: object): RawResponse => ({
    status,
    headers: {},
    body: Buffer.from(JSON.stringify(envelope)),
  });
  const transport: Transport = {
    endpoint: 'unix:///scripted',
    secure: false,
    close: () => undefined,
    send: async (request: RawRequest) => {
      if (request.path === '/1.0') {
        const environment = { server: 'incus', server_version: '6.0.4' };
        const metadata = { auth: 'trusted', api_extensions: [], environment };
        return reply(200, { type: 'sync', status: 'Success', status_code: 200, metadata });
      }
      fileCalls.push(`${request.method} ${decodeURIComponent(request.path.split('path=')[1]!)}`);
      const error = left.shift();
      if (error === undefined) return reply(200, { type: 'sync', status: 'Success', status_code: 200, metadata: {} });
      const status = error === 'Not Found' ? 404 : 500;
      return reply(status, { type: 'error', error, error_code: status });
    },
  };
  return { client: new LxdClient(transport, 'incus-1'), fileCalls };
}

const HELPER_SOCKET_GONE = 'dial unix /proc/self/fd/23/forkfile.sock: connect: no such file or directory';

describe("a push into a node whose file helper lost its socket (the daemons' race, canonical/lxd#18403)", () => {
  it('is tried again until the daemon starts a new helper, and lands', async () => {
    const { client, fileCalls } = scriptedHost(['Not Found', HELPER_SOCKET_GONE, HELPER_SOCKET_GONE]);
    // Incus 6.0 lacks modify-perm on this scripted host: each file is deleted before it is written.
    await pushFiles(client, 'n1', [{ path: '/etc/hostname', content: 'n1\n', mode: 0o644 }], [1, 1, 1]);
    expect(fileCalls).toEqual(['DELETE /etc/hostname', ...Array(3).fill('POST /etc/hostname')]);
  });

  it('fails with the daemon’s words once the tries are used up', async () => {
    const { client, fileCalls } = scriptedHost(Array(5).fill(HELPER_SOCKET_GONE));
    const hosts = { path: '/etc/hosts', content: '', mode: 0o644, createParents: true };
    const push = pushFiles(client, 'n1', [hosts], [1, 1]);
    await expect(push).rejects.toThrow(/push-file of node n1 on host incus-1: .*forkfile\.sock.*HTTP 500/);
    expect(fileCalls).toEqual(['POST /etc', 'POST /etc', 'POST /etc']);
  });

  it('other failures are not tried again', async () => {
    const { client, fileCalls } = scriptedHost(['Not Found', 'Failed to write file: disk quota exceeded']);
    const push = pushFiles(client, 'n1', [{ path: '/etc/hostname', content: 'n1\n', mode: 0o644 }], [1, 1]);
    await expect(push).rejects.toThrow(/disk quota exceeded/);
    expect(fileCalls).toEqual(['DELETE /etc/hostname', 'POST /etc/hostname']);
  });
});
