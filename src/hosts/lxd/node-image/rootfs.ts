import { mkdir, readdir, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { NodeImageRecipe } from './recipe.js';
import { runLogged } from './run-command.js';

export type RootfsFormat = 'squashfs' | 'tar';

/**
 * debootstrap of the recipe into `target`. Downloaded packages are kept in `debCache`, so a rebuild
 * after a recipe change downloads only what changed.
 */
export async function debootstrapRootfs(
  target: string,
  recipe: NodeImageRecipe,
  mirror: string,
  debCache: string,
  logFile: string,
): Promise<void> {
  await mkdir(debCache, { recursive: true });
  await runLogged(
    'debootstrap',
    [
      `--variant=${recipe.variant}`,
      `--arch=${recipe.architecture}`,
      '--components=main',
      `--include=${recipe.packages.join(',')}`,
      `--cache-dir=${debCache}`,
      recipe.suite,
      target,
      mirror,
    ],
    logFile,
  );
}

/** ifupdown brings eth0 up with DHCP at boot; the host's DHCP server (LXD's dnsmasq) hands out the address. */
const NETWORK_INTERFACES = `# marina node: eth0 gets its address from the host bridge's DHCP server.
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp
`;

/**
 * overlay2 whatever the host's storage pool is. On a btrfs pool dockerd would pick its btrfs driver,
 * whose subvolumes get qgroups of their own, outside the one that enforces the node's disk size;
 * overlay2 keeps Docker's data in the node's own subvolume. Whoever rewrites daemon.json must keep
 * this key.
 */
const DOCKER_DAEMON_JSON = `${JSON.stringify({ 'storage-driver': 'overlay2' }, null, 2)}\n`;

/**
 * Documentation, manual pages and translations a node never shows anyone. Every file of the image is
 * re-owned when a node first starts (its isolated id map), so fewer files boot faster: these are
 * half of them. dpkg keeps them out of later package upgrades too.
 */
const UNREAD_PATHS = ['/usr/share/doc/*', '/usr/share/man/*', '/usr/share/info/*', '/usr/share/locale/*'];
const DPKG_EXCLUDES = `# marina node: nobody reads these on a node; fewer files make its first start faster.
${UNREAD_PATHS.map((p) => `path-exclude=${p}`).join('\n')}
`;

/**
 * Units a node does not need, masked: the filesystem scrubbers (the host owns the disk), apt and dpkg
 * timers that would wake every idle node to refresh package lists nobody installs from, and what a
 * container has no use for at boot: kernel module loading (the host loads modules), ifupdown's wait
 * for udev (a container has none) and a login prompt on the console (a node has no password; the
 * way in is the host's exec). Each boot is a tenth cheaper in CPU without them, on every node.
 */
const MASKED_UNITS = [
  'e2scrub_reap.service',
  'e2scrub_all.timer',
  'apt-daily.timer',
  'apt-daily-upgrade.timer',
  'dpkg-db-backup.timer',
  'fstrim.timer',
  'modprobe@.service',
  'systemd-modules-load.service',
  'ifupdown-pre.service',
  'console-getty.service',
];

/**
 * systemd runs every generator at each boot, before any unit. A node's are all about hardware and
 * boot loaders (disks, encryption, fstab, consoles, SysV scripts that have native units here): masked.
 */
const MASKED_GENERATOR_DIRS = ['lib/systemd/system-generators', 'usr/lib/systemd/system-generators'];

async function dropUnreadFiles(root: string): Promise<void> {
  await mkdir(join(root, 'etc/dpkg/dpkg.cfg.d'), { recursive: true });
  await writeFile(join(root, 'etc/dpkg/dpkg.cfg.d/marina-excludes'), DPKG_EXCLUDES);
  for (const pattern of UNREAD_PATHS) {
    const dir = join(root, pattern.slice(1, -2));
    const entries = await readdir(dir).catch(() => [] as string[]);
    await Promise.all(entries.map((entry) => rm(join(dir, entry), { recursive: true, force: true })));
  }
}

async function maskUnits(root: string): Promise<void> {
  await maskAll(join(root, 'etc/systemd/system'), MASKED_UNITS);
}

async function maskGenerators(root: string): Promise<void> {
  const generators = new Set<string>();
  for (const dir of MASKED_GENERATOR_DIRS) {
    for (const name of await readdir(join(root, dir)).catch(() => [] as string[])) generators.add(name);
  }
  await maskAll(join(root, 'etc/systemd/system-generators'), [...generators]);
}

/** systemd reads a link to /dev/null in /etc as "masked", whatever ships the unit or generator. */
async function maskAll(dir: string, names: readonly string[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of names) {
    await rm(join(dir, name), { force: true });
    await symlink('/dev/null', join(dir, name));
  }
}

/** Turns the debootstrapped tree into something every node can boot from unchanged. */
export async function customizeRootfs(root: string): Promise<void> {
  await dropUnreadFiles(root);
  await maskUnits(root);
  await maskGenerators(root);
  await writeFile(join(root, 'etc/network/interfaces'), NETWORK_INTERFACES);
  await mkdir(join(root, 'etc/docker'), { recursive: true });
  await writeFile(join(root, 'etc/docker/daemon.json'), DOCKER_DAEMON_JSON);
  // The build machine's name and resolver must not leak into nodes: the hostname is written per node
  // (until then the node keeps the instance name), and dhclient writes resolv.conf from DHCP.
  await rm(join(root, 'etc/hostname'), { force: true });
  await rm(join(root, 'etc/resolv.conf'), { force: true });
  // An empty machine-id makes systemd generate a unique one on each node's first boot.
  await truncate(join(root, 'etc/machine-id'), 0);
  await rm(join(root, 'var/lib/dbus/machine-id'), { force: true });
  // dockerd creates its state on first start; baked state would be shared by every node and bloat
  // the image.
  await rm(join(root, 'var/lib/docker'), { recursive: true, force: true });
  await rm(join(root, 'var/cache/apt/archives'), { recursive: true, force: true });
  await mkdir(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
  await rm(join(root, 'var/lib/apt/lists'), { recursive: true, force: true });
  await mkdir(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
}

/**
 * Packs the tree with numeric owners and extended attributes (file capabilities live there). LXD
 * accepts a squashfs or a tarball as the rootfs of a split image and unpacks it with the host's tools.
 * gzip level 1 packs ~600 MB in ~3 s to ~170 MB (the default level 9 took 27 s for 5 % less), and
 * every unsquashfs can read gzip.
 */
export async function packRootfs(root: string, output: string, format: RootfsFormat, logFile: string): Promise<void> {
  if (format === 'squashfs') {
    await runLogged('mksquashfs', [root, output, '-noappend', '-no-progress', '-comp', 'gzip', '-Xcompression-level', '1'], logFile);
  } else {
    await runLogged('tar', ['--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', root, '-cf', output, '.'], logFile);
  }
}
