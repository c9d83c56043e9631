import { copyFile, mkdir, mkdtemp, symlink } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../processes.js';
import type { DockerCli } from './docker-cli.js';

/** A tiny image for test workloads: no registry is reachable, so it is made from the host's busybox. */
export const WORKLOAD_IMAGE = 'marina-test/busybox:1';

const APPLETS = ['sh', 'httpd', 'wget', 'hostname', 'sleep', 'cat', 'echo', 'ip', 'nslookup', 'nc', 'timeout', 'ping'];

let tarball: Promise<string> | undefined;

async function buildTarball(): Promise<string> {
  const busybox = '/bin/busybox';
  if (!existsSync(busybox)) throw new Error('busybox-static is not installed (tools/setup-test-host.sh installs it)');
  const dir = await mkdtemp(join(tmpdir(), 'marina-busybox-'));
  const root = join(dir, 'rootfs');
  await mkdir(join(root, 'bin'), { recursive: true });
  await mkdir(join(root, 'tmp'), { recursive: true });
  await copyFile(busybox, join(root, 'bin', 'busybox'));
  for (const applet of APPLETS) await symlink('busybox', join(root, 'bin', applet));
  const tar = join(dir, 'busybox.tar');
  const packed = await run('tar', ['-C', root, '-cf', tar, '.']);
  if (packed.code !== 0) throw new Error(`tar failed: ${packed.stderr}`);
  return tar;
}

/** Imports the image into the dockerd at `host` (every node that may run a task needs it locally). */
export async function loadWorkloadImage(docker: DockerCli, host: string): Promise<void> {
  tarball ??= buildTarball();
  const result = await docker(['import', '--change', 'CMD ["/bin/sh"]', await tarball, WORKLOAD_IMAGE], { host });
  if (result.code !== 0) throw new Error(`docker import on ${host} failed: ${result.stderr}`);
}
