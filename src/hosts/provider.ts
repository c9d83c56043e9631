import type {
  BayNetwork,
  BayNetworkSpec,
  BridgeNetwork,
  EnsuredNode,
  ExecOptions,
  ExecResult,
  HostCapacity,
  HostIdentity,
  HostObservation,
  ImageRef,
  NodeFile,
  NodeInfo,
  NodeRunState,
  NodeSpec,
  OwnershipSelector,
  StopOptions,
} from './types.js';

/**
 * One host that runs nodes. Implementations talk to a real host API; every method is safe to call
 * again after a crash (idempotent), throws HostError subclasses that name the host and the node,
 * and has a deadline.
 */
export interface EnsureOptions {
  /** Adopt the instance if it exists; never create it. */
  readonly adoptOnly?: boolean;
}

export interface HostProvider {
  /** The host's name, as used in errors and NodeInfo.host. */
  readonly name: string;

  /**
   * Creates the node, stopped, with its hostname set — or adopts an existing instance of that name
   * when it belongs to the same bay. Throws NodeConflictError when the name is taken by anything else.
   * Start it with startNode once its files are pushed. With `adoptOnly`, a missing instance is never
   * created: NodeNotFoundError says the node is gone (a node that once ran is replaced, never remade).
   */
  ensureNode(spec: NodeSpec, options?: EnsureOptions): Promise<EnsuredNode>;

  /**
   * Brings an adopted, stopped node in line with the spec and the host's settings: settings are
   * changed in place; a different image means the instance is created anew under the same name (so
   * callers do this only for nodes that never ran workloads). Throws NodeBusyError for a running node.
   */
  reconfigureNode(spec: NodeSpec): Promise<EnsuredNode>;

  /** undefined when no instance of that name exists. */
  getNode(name: string): Promise<NodeInfo | undefined>;

  /** Whether the node runs and its address, without the rest of getNode; undefined when it is gone. */
  nodeState(name: string): Promise<NodeRunState | undefined>;

  /** marina's nodes whose ownership matches every field of the selector (read from the host). */
  listNodes(selector: OwnershipSelector): Promise<NodeInfo[]>;

  /** No-op when already running. */
  startNode(name: string): Promise<void>;

  /** No-op when already stopped. */
  stopNode(name: string, options?: StopOptions): Promise<void>;

  /**
   * Marks the node unmanaged: it keeps running, but listNodes no longer returns it and ensureNode will not
   * adopt it. Returns false when the node is gone.
   */
  releaseNode(name: string): Promise<boolean>;

  /** Stops (forcibly) and deletes. Returns false when the node was already gone. */
  deleteNode(name: string): Promise<boolean>;

  /**
   * Writes files into the node, running or stopped, in order, each with its mode and owner; the parent
   * directories they ask for are made once, before the first.
   */
  pushFiles(name: string, files: readonly NodeFile[]): Promise<void>;

  /** Runs argv (no shell) in a running node and returns its exit code and output. */
  exec(name: string, command: readonly string[], options?: ExecOptions): Promise<ExecResult>;

  /**
   * Who answers and whether it trusts marina; does not throw for an untrusted client (a probe reports
   * that as a reason), but does for an unreachable host or a wrong server certificate.
   */
  probe(): Promise<HostIdentity>;

  /** The host's resources and the sum of what its instances are allowed to use. */
  capacity(): Promise<HostCapacity>;

  /** Capacity and marina's nodes from one listing of the host's instances. */
  observe(): Promise<HostObservation>;

  /** undefined when the host has no image under that alias. */
  findImage(alias: string): Promise<ImageRef | undefined>;

  /** The bridge nodes attach to, for address planning. undefined when it does not exist. */
  getBridge(name: string): Promise<BridgeNetwork | undefined>;

  /**
   * The bay's own bridge on this host (isolated mode), walled off from the rest of the subnet pool:
   * created with a free subnet when missing, adopted (walls restored) when it exists. Throws
   * BayNetworkError when the name belongs to something else or the pool is full.
   */
  ensureBayNetwork(spec: BayNetworkSpec): Promise<BayNetwork>;

  /** Deletes the bay's bridge and its walls once no node uses it. False when it was already gone. */
  deleteBayNetwork(name: string): Promise<boolean>;

  /** Releases connections (keep-alive sockets). The provider must not be used afterwards. */
  close(): void;
}
