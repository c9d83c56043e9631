import { describe, expect, it } from 'vitest';
import { DOCKERD_PATHS, dockerdFiles } from '../../../src/swarm/index.js';

const CA1 = '-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n';
const CA2 = '-----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----';
const CERT = '-----BEGIN CERTIFICATE-----\nSSS\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nKKK\n-----END PRIVATE KEY-----\n';

describe("the files that put a node's dockerd behind mutual TLS", () => {
  const files = dockerdFiles({ caPems: [CA1, CA2], certPem: CERT, keyPem: KEY });
  const byPath = new Map(files.map((file) => [file.path, file]));

  it('are pushed certificates first, then the configuration that names them', () => {
    expect(files.map((file) => file.path)).toEqual([
      '/etc/docker/ca.pem',
      '/etc/docker/server.pem',
      '/etc/docker/server-key.pem',
      '/etc/docker/daemon.json',
      '/etc/systemd/system/docker.service.d/marina.conf',
      '/.dockerenv',
    ]);
  });

  it('keep the private key readable by root only', () => {
    expect(byPath.get(DOCKERD_PATHS.key)).toMatchObject({ content: KEY, mode: 0o600 });
    expect(files.filter((file) => file.path !== DOCKERD_PATHS.key).every((file) => file.mode === 0o644)).toBe(true);
  });

  it('trust every CA of the bundle, so clients of an old and a new CA both get in during a rotation', () => {
    expect(byPath.get(DOCKERD_PATHS.caBundle)?.content).toBe(`${CA1}${CA2}\n`);
  });

  it('configure dockerd to require verified client certificates on 2376 and keep the local socket', () => {
    expect(JSON.parse(byPath.get(DOCKERD_PATHS.daemonJson)!.content)).toEqual({
      tlsverify: true,
      tlscacert: '/etc/docker/ca.pem',
      tlscert: '/etc/docker/server.pem',
      tlskey: '/etc/docker/server-key.pem',
      hosts: ['unix:///var/run/docker.sock', 'tcp://0.0.0.0:2376'],
      'storage-driver': 'overlay2',
    });
  });

  it('listen on another port when asked', () => {
    const other = dockerdFiles({ caPems: [CA1], certPem: CERT, keyPem: KEY, port: 12376 });
    expect(JSON.parse(other[3]!.content).hosts).toContain('tcp://0.0.0.0:12376');
  });

  it("clear the packaged unit's `-H fd://`, which dockerd refuses next to `hosts` in daemon.json", () => {
    const dropIn = byPath.get(DOCKERD_PATHS.systemdDropIn)!.content;
    expect(dropIn.split('\n').filter((line) => line.startsWith('ExecStart='))).toEqual([
      'ExecStart=',
      'ExecStart=/usr/sbin/dockerd --containerd=/run/containerd/containerd.sock',
    ]);
    expect(dropIn).toContain('[Service]');
    expect(dropIn).not.toContain('-H');
  });

  it('mark the node as a container for Docker with /.dockerenv', () => {
    expect(byPath.get('/.dockerenv')?.content).toBe('');
  });

  it('create their parent directories', () => {
    expect(files.every((file) => file.createParents)).toBe(true);
  });
});
