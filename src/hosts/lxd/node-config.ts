import { ownershipFromConfig, ownershipToConfig } from '../ownership.js';
import type { NodeFlavor, NodeInfo, NodeRunState, NodeSpec, NodeStatus, StaticIpv4 } from '../types.js';
import type { ConfigMap, DeviceMap, InstancesPost, LxdInstance, LxdInstanceState } from './api-types.js';
import { formatBytes, parseBytes, parseCount, parseCpuLimit } from './units.js';

/**
 * Kernel modules Docker and Swarm use: overlay2 storage, bridge networking with NAT, the routing
 * mesh (IPVS), overlay networks (VXLAN) and encrypted overlays (xfrm, esp4, xt_u32). A container
 * cannot load modules, so LXD loads these on the host when the node starts (`linux.kernel_modules`).
 */
export const SWARM_KERNEL_MODULES: readonly string[] = [
  'overlay',
  'bridge',
  'br_netfilter',
  'veth',
  'ip_tables',
  'ip6_tables',
  'iptable_filter',
  'iptable_nat',
  'iptable_mangle',
  'nf_nat',
  'nf_conntrack',
  'xt_conntrack',
  'xt_addrtype',
  'xt_MASQUERADE',
  'xt_mark',
  'xt_ipvs',
  'ip_vs',
  'ip_vs_rr',
  'vxlan',
  'xfrm_user',
  // Encrypted overlays: ESP, and the u32 match dockerd requires before it encrypts anything.
  'esp4',
  'xt_u32',
  'netlink_diag',
];

/** Room for dockerd, containerd, their shims and the workload; a fork bomb stays inside the node. */
export const DEFAULT_NODE_PROCESSES = 10_000;

export interface NodeShapeOptions {
  /** Storage pool of the root disk. */
  readonly storagePool: string;
  /** Modules LXD loads before the node starts; [] on hosts whose kernel has them built in. */
  readonly kernelModules: readonly string[];
  /** Whether the bridge is an LXD-managed network (`network=`) or a plain host bridge (`parent=`). */
  readonly managedBridge: boolean;
}

/** The `POST /1.0/instances` body for a node. The instance is created stopped: files go in first. */
export function instanceCreateRequest(spec: NodeSpec, options: NodeShapeOptions): InstancesPost {
  return {
    name: spec.name,
    type: 'container',
    // No profiles: the node's shape is entirely what marina states here, whatever the host's
    // default profile holds.
    profiles: [],
    start: false,
    config: nodeConfig(spec, options),
    devices: nodeDevices(spec, options),
    source: { type: 'image', alias: spec.image },
  };
}

function nodeConfig(spec: NodeSpec, options: NodeShapeOptions): ConfigMap {
  const config: ConfigMap = {
    // Unprivileged, with a uid/gid range of its own so nodes cannot touch each other's files.
    'security.privileged': 'false',
    'security.idmap.isolated': 'true',
    // Docker inside: nesting, and the syscalls overlayfs needs intercepted (LXD's FAQ).
    'security.nesting': 'true',
    'security.syscalls.intercept.mknod': 'true',
    'security.syscalls.intercept.setxattr': 'true',
    'limits.cpu': String(spec.flavor.cpu),
    'limits.memory': formatBytes(spec.flavor.memoryBytes),
    'limits.processes': String(spec.flavor.processes ?? DEFAULT_NODE_PROCESSES),
    // Nodes come back after a host reboot, so the bay's node count matches what swarm sees.
    'boot.autostart': 'true',
    ...ownershipToConfig(spec.ownership),
  };
  if (options.kernelModules.length > 0) config['linux.kernel_modules'] = options.kernelModules.join(',');
  return config;
}

function nodeDevices(spec: NodeSpec, options: NodeShapeOptions): DeviceMap {
  const nic: ConfigMap = options.managedBridge
    ? { type: 'nic', name: 'eth0', network: spec.network.bridge }
    : { type: 'nic', name: 'eth0', nictype: 'bridged', parent: spec.network.bridge };
  // On a managed bridge this is a DHCP reservation: the node's DHCP client gets exactly this address.
  if (spec.network.ipv4Address !== undefined) nic['ipv4.address'] = spec.network.ipv4Address;
  // The host drops frames from any other MAC and packets from any other address than the reserved one.
  if (spec.network.antiSpoofing && spec.network.ipv4Address !== undefined) {
    nic['security.mac_filtering'] = 'true';
    nic['security.ipv4_filtering'] = 'true';
  }
  return {
    root: { type: 'disk', path: '/', pool: options.storagePool, size: formatBytes(spec.flavor.diskBytes) },
    eth0: nic,
  };
}

const STATUS: Readonly<Record<string, NodeStatus>> = {
  Running: 'running',
  Stopped: 'stopped',
  Starting: 'starting',
  Stopping: 'stopping',
  Frozen: 'frozen',
  Error: 'error',
};

/** A time LXD reports, unless absent, unreadable or its zero time (0001-01-01: never). */
function validTime(text: string | undefined): Date | undefined {
  const time = text === undefined ? undefined : new Date(text);
  return time && !Number.isNaN(time.getTime()) && time.getUTCFullYear() > 1 ? time : undefined;
}

export function nodeInfoFromInstance(
  host: string,
  instance: LxdInstance,
  state: LxdInstanceState | null | undefined,
): NodeInfo {
  const config = instance.config;
  const createdAt = validTime(instance.created_at);
  const startedAt = validTime(instance.last_used_at);
  return {
    name: instance.name,
    host,
    status: STATUS[state?.status ?? instance.status] ?? 'unknown',
    ownership: ownershipFromConfig(config),
    ipv4Address: eth0Address(state),
    ...reservedAddress(instance),
    limits: nodeLimits(instance),
    createdAt,
    ...(startedAt ? { startedAt } : {}),
    imageFingerprint: config['volatile.base_image'],
    kernelModules: (config['linux.kernel_modules'] ?? '').split(',').map((m) => m.trim()).filter(Boolean),
  };
}

function nodeLimits(instance: LxdInstance): Partial<NodeFlavor> {
  const config = instance.expanded_config ?? instance.config;
  const devices = instance.expanded_devices ?? instance.devices;
  const limits: { -readonly [K in keyof NodeFlavor]?: NodeFlavor[K] } = {};
  const cpu = parseCpuLimit(config['limits.cpu']);
  const memoryBytes = parseBytes(config['limits.memory']);
  const diskBytes = parseBytes(devices.root?.size);
  const processes = parseCount(config['limits.processes']);
  if (cpu !== undefined) limits.cpu = cpu;
  if (memoryBytes !== undefined) limits.memoryBytes = memoryBytes;
  if (diskBytes !== undefined) limits.diskBytes = diskBytes;
  if (processes !== undefined) limits.processes = processes;
  return limits;
}

function reservedAddress(instance: LxdInstance): { reservedIpv4Address?: string } {
  const address = instance.devices?.eth0?.['ipv4.address'];
  return address && address !== 'none' ? { reservedIpv4Address: address } : {};
}

/** eth0's global IPv4 address; docker0 and friends appear once Docker runs and are ignored. */
/** The run state in an instance's state document (GET /1.0/instances/{name}/state). */
export function runStateFromState(state: LxdInstanceState): NodeRunState {
  return { status: STATUS[state.status] ?? 'unknown', ipv4Address: eth0Address(state) };
}

function eth0Address(state: LxdInstanceState | null | undefined): string | undefined {
  const addresses = state?.network?.eth0?.addresses ?? [];
  return addresses.find((address) => address.family === 'inet' && address.scope === 'global')?.address;
}

/** /etc/hosts of a node: the image keeps the build machine's, so each node gets its own with its hostname. */
export function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${hostname}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'ff02::1\tip6-allnodes',
    'ff02::2\tip6-allrouters',
    '',
  ].join('\n');
}

/**
 * The node's network configuration when it sets its own address (ifupdown reads it at boot): the image's
 * default asks DHCP, which only a host's managed bridge offers. resolvConf goes with it (dhclient would
 * otherwise write it).
 */
export function staticNetworkFiles(address: string, ipv4: StaticIpv4): { interfaces: string; resolvConf: string } {
  const interfaces = [
    '# marina node: a fixed address on the hosts\' network.',
    'auto lo',
    'iface lo inet loopback',
    '',
    'auto eth0',
    'iface eth0 inet static',
    `  address ${address}/${ipv4.prefixLength}`,
    `  gateway ${ipv4.gateway}`,
    '',
  ].join('\n');
  const resolvConf = ipv4.nameservers.map((server) => `nameserver ${server}\n`).join('');
  return { interfaces, resolvConf };
}
