import type { ConfigMap, DeviceMap, LxdInstance, LxdInstanceState } from '../lxd/api-types.js';
import { nodeInfoFromInstance } from '../lxd/node-config.js';
import { parseBytes, parseCpuLimit } from '../lxd/units.js';
import type { NodeInfo } from '../types.js';

/** A file pushed into a node. Content is kept as text: what marina pushes is text. */
export interface SimFile {
  readonly content: string;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
}

/** The dockerd process of a node, as systemd would see it. */
export interface DockerdState {
  /** Date.now() when the current dockerd started (node boot or `systemctl restart docker`). */
  startedAt: number;
  /** Killed by a fault: stays down until the node restarts or docker.service is restarted. */
  killed: boolean;
  /** Why the last start failed (what journalctl shows); dockerd is down while set. */
  failure: string | undefined;
  /** Ports the running dockerd serves with TLS, and without, as its daemon.json asked at start. */
  tlsPorts: number[];
  plainPorts: number[];
  /** The server certificate (PEM chain) the running dockerd read at start: what a TLS client is shown. */
  servedCertificate?: string | undefined;
  /**
   * Whether the unit systemd has loaded drops the packaged `-H fd://` (marina's drop-in, read at boot
   * or at `systemctl daemon-reload`): without it, `hosts` in daemon.json makes dockerd refuse to start.
   */
  unitClearsHostFlag: boolean;
}

/** This dockerd's own record of its swarm (on a real node, /var/lib/docker/swarm). */
export interface LocalMembership {
  readonly cluster: string;
  readonly node: string;
}

export type InstanceStatus = 'Running' | 'Stopped';

/** One LXD instance: its configuration as LXD stores it, its root filesystem's changes, its dockerd. */
export interface SimInstance {
  readonly name: string;
  /** Unique in the world for its life: a new instance of the same name is another machine. */
  readonly uid: number;
  readonly host: string;
  status: InstanceStatus;
  readonly createdAt: number;
  /** When it last started; undefined before its first start. */
  startedAt?: number;
  config: ConfigMap;
  devices: DeviceMap;
  /** eth0's address, from the first start on. */
  address: string | undefined;
  readonly files: Map<string, SimFile>;
  /** Directories created in the node beyond those of the image. */
  readonly dirs: Set<string>;
  readonly dockerd: DockerdState;
  swarm: LocalMembership | undefined;
}

/** Directories of the node image that files can be pushed into without createParents. */
const IMAGE_DIRECTORIES: ReadonlySet<string> = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/etc/default',
  '/etc/docker',
  '/etc/network',
  '/etc/systemd',
  '/etc/systemd/system',
  '/home',
  '/lib',
  '/media',
  '/mnt',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/usr/bin',
  '/usr/lib',
  '/usr/local',
  '/usr/sbin',
  '/var',
  '/var/lib',
  '/var/log',
  '/var/run',
]);

/** Files the node image brings (see the image's rootfs customisation). */
const IMAGE_FILES: ReadonlyMap<string, SimFile> = new Map([
  [
    '/etc/docker/daemon.json',
    { content: `${JSON.stringify({ 'storage-driver': 'overlay2' }, null, 2)}\n`, mode: 0o644, uid: 0, gid: 0 },
  ],
]);

export function newDockerdState(): DockerdState {
  return { startedAt: 0, killed: false, failure: undefined, tlsPorts: [], plainPorts: [], unitClearsHostFlag: false };
}

export function readFile(instance: SimInstance, path: string): SimFile | undefined {
  return instance.files.get(path) ?? IMAGE_FILES.get(path);
}

export function directoryExists(instance: SimInstance, path: string): boolean {
  return IMAGE_DIRECTORIES.has(path) || instance.dirs.has(path);
}

/** The hostname the node boots with: /etc/hostname, else the instance name (LXD's default). */
export function hostnameOf(instance: SimInstance): string {
  return readFile(instance, '/etc/hostname')?.content.trim() || instance.name;
}

export function cpuLimit(instance: SimInstance): number | undefined {
  return parseCpuLimit(instance.config['limits.cpu']);
}

export function memoryLimit(instance: SimInstance): number | undefined {
  return parseBytes(instance.config['limits.memory']);
}

export function kernelModulesOf(instance: SimInstance): string[] {
  return (instance.config['linux.kernel_modules'] ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter(Boolean);
}

/** LXD's last_used_at of an instance never started. */
const NEVER = '0001-01-01T00:00:00Z';

/** The instance as `GET /1.0/instances/<name>` would show it (no profiles: config is expanded). */
export function asLxdInstance(instance: SimInstance): LxdInstance {
  return {
    name: instance.name,
    status: instance.status,
    status_code: instance.status === 'Running' ? 103 : 102,
    created_at: new Date(instance.createdAt).toISOString(),
    last_used_at: instance.startedAt === undefined ? NEVER : new Date(instance.startedAt).toISOString(),
    config: instance.config,
    devices: instance.devices,
  };
}

export function lxdState(instance: SimInstance): LxdInstanceState {
  const running = instance.status === 'Running';
  const addresses =
    running && instance.address !== undefined
      ? [{ family: 'inet' as const, address: instance.address, netmask: '', scope: 'global' }]
      : [];
  return {
    status: instance.status,
    status_code: running ? 103 : 102,
    network: running ? { eth0: { addresses } } : null,
  };
}

/** NodeInfo through the LXD provider's own mapping, so both providers report a node alike. */
export function nodeInfo(instance: SimInstance): NodeInfo {
  return nodeInfoFromInstance(instance.host, asLxdInstance(instance), lxdState(instance));
}
