/**
 * What a simulated world can be told: how long each kind of call takes, what a host has, and how its
 * dockerds behave. Everything has a default, so `SimWorld.open()` alone gives a usable world.
 */

/** Kinds of calls that take different times on a real host. */
export type LatencyClass = 'create' | 'start' | 'stop' | 'delete' | 'list' | 'file' | 'exec' | 'other' | 'docker';

/** Milliseconds, or milliseconds give or take a uniformly drawn jitter. */
export type LatencySpec = number | { readonly ms: number; readonly jitterMs: number };

export type LatencyConfig = Readonly<Record<LatencyClass, LatencySpec>>;

/** A few milliseconds: enough for calls to interleave as they do against real hosts, cheap at scale. */
export const DEFAULT_LATENCY: LatencyConfig = {
  create: 5,
  start: 3,
  stop: 2,
  delete: 3,
  list: 2,
  file: 1,
  exec: 2,
  other: 1,
  docker: 1,
};

/** A simulated host's hardware and the kernel modules it can load for its nodes. */
export interface SimHostSpec {
  readonly cpu: number;
  readonly memoryBytes: number;
  /** Size of the storage pool (every pool name the provider asks for has this size). */
  readonly diskBytes: number;
  /**
   * When set, the only modules the host can load: a node configured to load any other fails to
   * start, as on LXD ("Failed to load kernel module ...").
   */
  readonly loadableModules?: readonly string[];
  /** Modules the host cannot load; a node configured to load one of them fails to start. */
  readonly missingModules?: readonly string[];
  /** What `probe()` reports. Default `lxd`. */
  readonly server?: 'lxd' | 'incus';
  readonly serverVersion?: string;
}

const GiB = 1024 ** 3;

/** A large host: capacity is rarely what a benchmark wants to measure. */
export const DEFAULT_HOST_SPEC: SimHostSpec = { cpu: 64, memoryBytes: 256 * GiB, diskBytes: 4096 * GiB };

/** How the simulated dockerds and their swarms behave. */
export interface SimDockerConfig {
  /** `/version` → Version and what nodes report as Engine.EngineVersion. */
  readonly engineVersion: string;
  readonly apiVersion: string;
  /** Time from a node's start (or a dockerd restart) until dockerd answers. Default 0. */
  readonly bootMs: number;
  /** Time each member takes to renew its certificate during a swarm CA rotation. */
  readonly caRotationMs: number;
}

/** What Debian 12's docker.io package runs (the node image's dockerd). */
export const DEFAULT_DOCKER_CONFIG: SimDockerConfig = {
  engineVersion: '20.10.24+dfsg1',
  apiVersion: '1.41',
  bootMs: 0,
  caRotationMs: 300,
};

/** Where node addresses come from: one subnet per host, carved out of one base network. */
export interface SimNetworkConfig {
  /** IPv4 network every host subnet is taken from, e.g. `10.0.0.0/8`. */
  readonly base: string;
  /** Prefix length of each host's subnet (its bridge). /19 in a /8: 2,048 hosts of 8,190 addresses. */
  readonly hostPrefix: number;
}

export const DEFAULT_NETWORK_CONFIG: SimNetworkConfig = { base: '10.0.0.0/8', hostPrefix: 19 };

export interface SimWorldConfig {
  /** Where the world is kept between processes; absent: in memory only. */
  readonly file?: string;
  readonly latency?: Partial<LatencyConfig>;
  /** Hardware of hosts not listed in `hosts` (created the first time they are used). */
  readonly defaultHost?: Partial<SimHostSpec>;
  /** Hosts by name; their specs apply over what a loaded file holds. */
  readonly hosts?: Readonly<Record<string, Partial<SimHostSpec>>>;
  readonly docker?: Partial<SimDockerConfig>;
  readonly network?: Partial<SimNetworkConfig>;
  /** Delay between a mutation and the save it schedules (when `file` is set). Default 1 s. */
  readonly saveDebounceMs?: number;
}

export function resolveHostSpec(...layers: (Partial<SimHostSpec> | undefined)[]): SimHostSpec {
  return Object.assign({}, DEFAULT_HOST_SPEC, ...layers.filter(Boolean)) as SimHostSpec;
}
