/**
 * The vocabulary of the host layer: what a node is asked to be (NodeSpec), who owns it
 * (NodeOwnership, stored on the host itself), and what the host reports back (NodeInfo,
 * HostCapacity). Nothing here is LXD-specific.
 */

export type NodeRole = 'manager' | 'worker';

/**
 * Who a node belongs to. Written into the instance's configuration on the host when it is created
 * and read back from there, so a restarted operator adopts existing nodes instead of remembering them.
 */
export interface NodeOwnership {
  /** metadata.uid of the Bay: the only field that identifies the owner across a delete and re-create. */
  readonly bayUid: string;
  readonly namespace: string;
  readonly bayName: string;
  /** The node's position in the bay (0-based); part of its deterministic name. */
  readonly index: number;
  readonly role: NodeRole;
}

/** A subset of NodeOwnership; a node matches when every given field is equal. `{}` matches every marina node. */
export type OwnershipSelector = Partial<NodeOwnership>;

/** Resources of one node. Bytes and whole CPUs: the API layer converts Kubernetes quantities. */
export interface NodeFlavor {
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  /** Maximum number of processes (and threads) in the node; a default suited to Docker when absent. */
  readonly processes?: number;
}

export interface NodeNetwork {
  /** The host bridge the node's eth0 is attached to (a managed network on LXD/Incus). */
  readonly bridge: string;
  /**
   * A fixed IPv4 address on that bridge (a DHCP reservation on the host), e.g. so server certificates
   * can name it before the node first boots. Absent: the host's DHCP server picks one.
   */
  readonly ipv4Address?: string;
  /**
   * The host drops what the node sends from any other address or MAC (LXD `security.ipv4_filtering`):
   * a node cannot pose as another. Needs ipv4Address.
   */
  readonly antiSpoofing?: boolean;
  /**
   * The node configures ipv4Address itself (written into it before first boot): for a bridge onto the
   * hosts' own network, where no DHCP server of the host hands out addresses. Needs ipv4Address.
   */
  readonly staticIpv4?: StaticIpv4;
}

export interface StaticIpv4 {
  readonly prefixLength: number;
  readonly gateway: string;
  readonly nameservers: readonly string[];
}

/** Who a bay's own network belongs to: the bay, by uid (a re-created bay of the same name gets another). */
export type BayNetworkOwner = Pick<NodeOwnership, 'bayUid' | 'namespace' | 'bayName'>;

/** A bridge of one bay on one host, walled off from every other bay's subnet in the pool. */
export interface BayNetworkSpec {
  /** The bridge's name on the host (an interface name: at most 15 characters); its ACL has the same name. */
  readonly name: string;
  readonly owner: BayNetworkOwner;
  /** The range every bay's subnet comes from, e.g. `10.240.0.0/16`. */
  readonly subnetPool: string;
  /** The size of the bay's subnet on this host. */
  readonly prefixLength: number;
}

/** A bay's bridge as it exists on a host. */
export interface BayNetwork {
  readonly name: string;
  /** The bay's subnet on this host, e.g. `10.240.3.0/24`. */
  readonly subnet: string;
  /** The host's address on the bridge: the nodes' gateway. */
  readonly gateway: string;
}

export interface NodeSpec {
  /** Instance name on the host; a DNS label (letters, digits, '-'; at most 63 characters). */
  readonly name: string;
  /** The node's hostname; defaults to `name`. */
  readonly hostname?: string;
  /** Image alias (or fingerprint) on the host, e.g. `marina-node/bookworm`. */
  readonly image: string;
  readonly ownership: NodeOwnership;
  readonly flavor: NodeFlavor;
  readonly network: NodeNetwork;
}

export type NodeStatus = 'running' | 'stopped' | 'starting' | 'stopping' | 'frozen' | 'error' | 'unknown';

/** What a node runs as at this moment: read in one light call while it boots. */
export interface NodeRunState {
  readonly status: NodeStatus;
  /** The global IPv4 address of eth0, once its DHCP client got one. */
  readonly ipv4Address: string | undefined;
}

export interface NodeInfo {
  readonly name: string;
  /** The host's name (as given to the provider). */
  readonly host: string;
  readonly status: NodeStatus;
  /** Undefined for an instance without marina's ownership keys (listNodes never returns those). */
  readonly ownership: NodeOwnership | undefined;
  /** The global IPv4 address of eth0, once the node is running and its DHCP client got one. */
  readonly ipv4Address: string | undefined;
  /** The fixed address its NIC is configured with (NodeNetwork.ipv4Address), running or not. */
  readonly reservedIpv4Address?: string;
  /** Resources as configured on the host (what the node is limited to). */
  readonly limits: Partial<NodeFlavor>;
  readonly createdAt: Date | undefined;
  /** When the node last started; undefined before its first start. */
  readonly startedAt?: Date;
  /** Fingerprint of the image the node was created from. */
  readonly imageFingerprint: string | undefined;
  /** Modules the host loads before the node starts (LXD linux.kernel_modules), as configured. */
  readonly kernelModules: readonly string[];
}

/** A node setting that a spec can ask for and an existing instance can differ in. */
export type NodeSetting = 'image' | 'kernel-modules' | 'cpu' | 'memory' | 'processes' | 'disk';

/** One setting of an existing node that differs from what is asked of it now. */
export interface NodeDrift {
  readonly setting: NodeSetting;
  readonly actual: string;
  readonly wanted: string;
}

export interface EnsuredNode {
  readonly node: NodeInfo;
  /** false: an instance of that name already existed and belonged to the same bay, so it was adopted. */
  readonly created: boolean;
  /**
   * For an adopted node: where its instance differs from the spec and the host's settings (kernel
   * modules, image). Always empty for a node just created. The caller decides whether to repair it.
   */
  readonly drift: readonly NodeDrift[];
}

export interface NodeFile {
  /** Absolute path inside the node. */
  readonly path: string;
  readonly content: string | Uint8Array;
  /** Permission bits, e.g. 0o600 for a private key. */
  readonly mode: number;
  /** Owner inside the node (the host maps it into the node's id range). Defaults to 0 (root). */
  readonly uid?: number;
  readonly gid?: number;
  /** Create missing parent directories (mode 0755, root) first. */
  readonly createParents?: boolean;
}

export interface ExecOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Deadline for the command; it keeps running inside the node if this passes. Default 60 s. */
  readonly timeoutMs?: number;
}

export interface ExecResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface StopOptions {
  /** Kill instead of asking init to shut down. */
  readonly force?: boolean;
  /** How long a clean shutdown may take before it is forced. Default 30 s. */
  readonly timeoutSeconds?: number;
}

/** Resources promised to a set of instances: the sum of their limits. */
export interface Allocation {
  readonly cpu: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
  readonly instances: number;
}

/** What a host has and what its instances are entitled to (their limits, not their current usage). */
export interface HostCapacity {
  readonly host: string;
  readonly total: {
    /** Hardware threads the host's kernel sees. */
    readonly cpu: number;
    readonly memoryBytes: number;
    /** Size of the storage pool nodes are created in, when the host reports it. */
    readonly diskBytes: number | undefined;
  };
  /**
   * Every instance on the host, marina's or not (a cpuset counts its CPUs). What a scheduler must
   * subtract from `total`.
   */
  readonly allocated: Allocation & {
    /** Instances without a CPU or memory limit: they may use the whole host, so capacity is soft. */
    readonly unlimitedInstances: number;
  };
  /** marina's nodes only (instances with ownership keys): their flavors. */
  readonly reservedByMarina: Allocation;
}

/**
 * One look at a host: what it has and marina's nodes on it, taken from a single listing of its
 * instances. Kept per host by the operator and shared by every bay, so that host traffic grows with
 * the number of hosts, not bays × hosts.
 */
export interface HostObservation {
  readonly capacity: HostCapacity;
  /** marina's nodes that are not released (what listNodes({}) returns). */
  readonly nodes: readonly NodeInfo[];
}

/** Who answers on a host and whether it trusts marina. */
export interface HostIdentity {
  /** `lxd` or `incus` (`GET /1.0` environment.server). */
  readonly server: string;
  readonly version: string;
  /** false: the host answered but does not trust marina's client certificate. */
  readonly trusted: boolean;
  /** What the daemon says of its machine (`GET /1.0` environment); absent where it says nothing. */
  readonly environment?: HostEnvironment;
}

export interface HostEnvironment {
  readonly storageDriver?: string;
  readonly kernelVersion?: string;
  /** nftables or xtables: how the daemon filters its bridges. */
  readonly firewall?: string;
  readonly cgroup2?: boolean;
}

export interface ImageRef {
  readonly alias: string;
  readonly fingerprint: string;
}

export interface BridgeNetwork {
  readonly name: string;
  /** The bridge's own address with prefix, e.g. `10.213.71.1/24` (nodes get addresses in it). */
  readonly ipv4Cidr: string | undefined;
  readonly managed: boolean;
}
