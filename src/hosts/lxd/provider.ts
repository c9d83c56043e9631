import { nodeDrift } from '../drift.js';
import { HostOperationError, InvalidNodeSpecError, NodeBusyError, NodeConflictError, NodeNotFoundError } from '../errors.js';
import { isReleased, MANAGED_KEY, matchesSelector, ownershipFromConfig, sameBay } from '../ownership.js';
import type { EnsureOptions, HostProvider } from '../provider.js';
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
  NodeDrift,
  NodeFile,
  NodeInfo,
  NodeOwnership,
  NodeRunState,
  NodeSpec,
  OwnershipSelector,
  StopOptions,
} from '../types.js';
import { validateNodeSpec } from '../validate.js';
import type { InstanceStatePut, LxdInstance, LxdInstanceState, LxdNetwork } from './api-types.js';
import { hostCapacity, listInstances } from './capacity.js';
import { LxdBayNetworks } from './bay-networks.js';
import type { CallContext, LxdClient } from './client.js';
import { isConflict, isNotFound } from './envelope.js';
import { execInInstance } from './exec.js';
import { pushFiles } from './files.js';
import { findImageAlias } from './images.js';
import {
  SWARM_KERNEL_MODULES,
  hostsFile,
  instanceCreateRequest,
  nodeInfoFromInstance,
  runStateFromState,
  staticNetworkFiles,
} from './node-config.js';
import { OperationOutcomeUnknownError } from './operations.js';

export interface LxdProviderOptions {
  /** Storage pool for the nodes' root disks. Default `default`. */
  readonly storagePool?: string;
  /**
   * Modules the host loads when a node starts. Default SWARM_KERNEL_MODULES. Use [] on a host whose
   * kernel has no loadable modules (everything built in): LXD runs modprobe for each listed module
   * that is not under /sys/module and refuses to start the node when that fails.
   */
  readonly kernelModules?: readonly string[];
  /** Creating a node unpacks the image the first time it is used on a host. Default 10 min. */
  readonly createTimeoutMs?: number;
  /** Default 2 min. */
  readonly startTimeoutMs?: number;
}

const DEFAULT_STORAGE_POOL = 'default';
const DEFAULT_CREATE_TIMEOUT_MS = 10 * 60_000;
const DEFAULT_START_TIMEOUT_MS = 2 * 60_000;
const DEFAULT_STOP_TIMEOUT_SECONDS = 30;
const DELETE_TIMEOUT_MS = 2 * 60_000;

/** Nodes as LXD/Incus system containers, driven through the REST API of one host. */
export class LxdHostProvider implements HostProvider {
  private readonly storagePool: string;
  private readonly kernelModules: readonly string[];
  private readonly createTimeoutMs: number;
  private readonly startTimeoutMs: number;
  /**
   * Creations on one host run one at a time: LXD picks an isolated container's id range by looking at
   * the ranges of the containers that exist, so two created at the same moment can be given ranges
   * outside /etc/subuid, and then fail to start ("newuidmap ... not allowed"). Serial creation also
   * staggers the nodes' first starts (each remaps its root filesystem to its range): creating a bay's
   * nodes at once and starting them together was measured slower to Ready on a two-core host.
   */
  private creations: Promise<unknown> = Promise.resolve();
  private readonly bayNetworks: LxdBayNetworks;

  constructor(
    readonly client: LxdClient,
    options: LxdProviderOptions = {},
  ) {
    this.storagePool = options.storagePool ?? DEFAULT_STORAGE_POOL;
    this.kernelModules = options.kernelModules ?? SWARM_KERNEL_MODULES;
    this.createTimeoutMs = options.createTimeoutMs ?? DEFAULT_CREATE_TIMEOUT_MS;
    this.startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
    this.bayNetworks = new LxdBayNetworks(client);
  }

  get name(): string {
    return this.client.host;
  }

  async ensureNode(spec: NodeSpec, options: EnsureOptions = {}): Promise<EnsuredNode> {
    const call: CallContext = { operation: 'ensure-node', instance: spec.name };
    validateNodeSpec(spec, this.client.context(call));
    await this.client.requireTrusted(call);
    const existing = await this.readInstance(spec.name, call);
    if (existing) return this.adopt(existing, spec, call);
    if (options.adoptOnly) throw new NodeNotFoundError(this.client.context(call));
    try {
      await this.oneCreationAtATime(() => this.createInstance(spec, call));
    } catch (error) {
      // Another creator won the race, or the outcome was lost: what is on the host now decides.
      if (!isConflict(error) && !(error instanceof OperationOutcomeUnknownError) && !mentionsExisting(error)) {
        throw error;
      }
      const raced = await this.readInstance(spec.name, call);
      if (!raced) throw error;
      return this.adopt(raced, spec, call);
    }
    await this.writeIdentity(spec);
    return { node: await this.requireNode(spec.name, call), created: true, drift: [] };
  }

  async reconfigureNode(spec: NodeSpec): Promise<EnsuredNode> {
    const call: CallContext = { operation: 'reconfigure-node', instance: spec.name };
    validateNodeSpec(spec, this.client.context(call));
    await this.client.requireTrusted(call);
    const instance = await this.requireInstance(spec.name, call);
    this.requireSameBay(instance, spec, call);
    if (instance.status !== 'Stopped') throw new NodeBusyError(this.client.context(call), `the node is ${instance.status.toLowerCase()}; only a stopped node is reconfigured`);
    const drift = await this.driftOf(instance, spec);
    if (drift.some((d) => d.setting === 'image')) {
      // An instance cannot change its root filesystem's image: the node is made again, same name.
      await this.deleteNode(spec.name);
      return this.ensureNode(spec);
    }
    if (drift.length > 0) await this.client.run('PUT', instancePath(spec.name), call, { json: this.reconfigured(instance, spec), operationTimeoutMs: DELETE_TIMEOUT_MS });
    return { node: await this.requireNode(spec.name, call), created: false, drift: [] };
  }

  private oneCreationAtATime<T>(create: () => Promise<T>): Promise<T> {
    const run = this.creations.then(create, create);
    this.creations = run.catch(() => undefined);
    return run;
  }

  async getNode(name: string): Promise<NodeInfo | undefined> {
    const call: CallContext = { operation: 'get-node', instance: name };
    await this.client.requireTrusted(call);
    const instance = await this.readInstance(name, call);
    if (!instance) return undefined;
    const state = instance.status === 'Running' ? await this.readState(name, call) : undefined;
    return nodeInfoFromInstance(this.name, instance, state);
  }

  async nodeState(name: string): Promise<NodeRunState | undefined> {
    const call: CallContext = { operation: 'node-state', instance: name };
    await this.client.requireTrusted(call);
    const state = await this.readState(name, call);
    return state && runStateFromState(state);
  }

  async listNodes(selector: OwnershipSelector): Promise<NodeInfo[]> {
    const call: CallContext = { operation: 'list-nodes' };
    await this.client.requireTrusted(call);
    // recursion=2 embeds each instance's state (addresses) in one round trip.
    const instances = await listInstances(this.client, 2, call);
    return instances
      .filter((instance) => !isReleased(instance.config) && matchesSelector(ownershipFromConfig(instance.config), selector))
      .map((instance) => nodeInfoFromInstance(this.name, instance, instance.state))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async startNode(name: string): Promise<void> {
    const call: CallContext = { operation: 'start-node', instance: name };
    await this.client.requireTrusted(call);
    const instance = await this.requireInstance(name, call);
    if (instance.status === 'Running') return;
    await this.changeState(name, { action: 'start', timeout: -1, force: false }, this.startTimeoutMs, call);
  }

  async stopNode(name: string, options: StopOptions = {}): Promise<void> {
    const call: CallContext = { operation: 'stop-node', instance: name };
    await this.client.requireTrusted(call);
    const instance = await this.requireInstance(name, call);
    if (instance.status === 'Stopped') return;
    await this.stopInstance(name, options, call);
  }

  async releaseNode(name: string): Promise<boolean> {
    const call: CallContext = { operation: 'release-node', instance: name };
    await this.client.requireTrusted(call);
    if (!(await this.readInstance(name, call))) return false;
    // PATCH merges into the instance's configuration; nothing else of the node changes.
    const options = { json: { config: { [MANAGED_KEY]: 'false' } }, operationTimeoutMs: DELETE_TIMEOUT_MS };
    await this.client.change('PATCH', instancePath(name), call, options);
    return true;
  }

  async deleteNode(name: string): Promise<boolean> {
    const call: CallContext = { operation: 'delete-node', instance: name };
    await this.client.requireTrusted(call);
    const instance = await this.readInstance(name, call);
    if (!instance) return false;
    if (instance.status !== 'Stopped') await this.stopInstance(name, { force: true }, call);
    try {
      await this.client.run('DELETE', instancePath(name), call, { operationTimeoutMs: DELETE_TIMEOUT_MS });
    } catch (error) {
      if (isNotFound(error)) return false;
      if (!(error instanceof OperationOutcomeUnknownError)) throw error;
      if (await this.readInstance(name, call)) throw error;
    }
    return true;
  }

  async pushFiles(name: string, files: readonly NodeFile[]): Promise<void> {
    const call: CallContext = { operation: 'push-file', instance: name };
    await this.client.requireTrusted(call);
    await this.notFoundAsNodeError(call, () => pushFiles(this.client, name, files));
  }

  async exec(name: string, command: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    const call: CallContext = { operation: 'exec', instance: name };
    await this.client.requireTrusted(call);
    return this.notFoundAsNodeError(call, () => execInInstance(this.client, name, command, options));
  }

  async probe(): Promise<HostIdentity> {
    this.client.forgetServer(); // a probe must see the current trust, not a cached answer
    const server = await this.client.serverRedeemingToken({ operation: 'probe' });
    return { server: server.kind, version: server.version, trusted: server.trusted, environment: server.environment };
  }

  async capacity(): Promise<HostCapacity> {
    await this.client.requireTrusted({ operation: 'capacity' });
    const { instances: _listed, ...capacity } = await hostCapacity(this.client, this.storagePool);
    return capacity;
  }

  async observe(): Promise<HostObservation> {
    await this.client.requireTrusted({ operation: 'observe' });
    const { instances, ...capacity } = await hostCapacity(this.client, this.storagePool, 2);
    const nodes = instances
      .filter((instance) => !isReleased(instance.config) && ownershipFromConfig(instance.config) !== undefined)
      .map((instance) => nodeInfoFromInstance(this.name, instance, instance.state))
      .sort((a, b) => a.name.localeCompare(b.name));
    return { capacity, nodes };
  }

  async findImage(alias: string): Promise<ImageRef | undefined> {
    await this.client.requireTrusted({ operation: 'find-image' });
    return findImageAlias(this.client, alias);
  }

  async getBridge(name: string): Promise<BridgeNetwork | undefined> {
    const call: CallContext = { operation: 'get-bridge' };
    await this.client.requireTrusted(call);
    try {
      const network = await this.client.get<LxdNetwork>(`/1.0/networks/${encodeURIComponent(name)}`, call);
      const cidr = network.config['ipv4.address'];
      return { name, managed: network.managed, ipv4Cidr: cidr && cidr !== 'none' ? cidr : undefined };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  ensureBayNetwork(spec: BayNetworkSpec): Promise<BayNetwork> {
    return this.bayNetworks.ensure(spec);
  }

  async deleteBayNetwork(name: string): Promise<boolean> {
    await this.client.requireTrusted({ operation: 'delete-bay-network' });
    return this.bayNetworks.delete(name);
  }

  close(): void {
    this.client.close();
  }

  private async createInstance(spec: NodeSpec, call: CallContext): Promise<void> {
    const bridge = await this.getBridge(spec.network.bridge);
    if (!bridge) {
      throw new InvalidNodeSpecError(this.client.context(call), `bridge ${spec.network.bridge} does not exist on the host`);
    }
    const body = instanceCreateRequest(spec, {
      storagePool: this.storagePool,
      kernelModules: this.kernelModules,
      managedBridge: bridge.managed,
    });
    await this.client.run('POST', '/1.0/instances', call, { json: body, operationTimeoutMs: this.createTimeoutMs });
  }

  /**
   * The image keeps the build machine's /etc/hostname, and systemd sets the hostname from that file
   * at boot: each node gets its own before it first starts, and its fixed address when the bridge it
   * is on hands out none.
   */
  private async writeIdentity(spec: NodeSpec): Promise<void> {
    const hostname = spec.hostname ?? spec.name;
    const files: NodeFile[] = [
      { path: '/etc/hostname', content: `${hostname}\n`, mode: 0o644 },
      { path: '/etc/hosts', content: hostsFile(hostname), mode: 0o644 },
    ];
    const { ipv4Address, staticIpv4 } = spec.network;
    if (ipv4Address !== undefined && staticIpv4 !== undefined) {
      const network = staticNetworkFiles(ipv4Address, staticIpv4);
      files.push({ path: '/etc/network/interfaces', content: network.interfaces, mode: 0o644 });
      files.push({ path: '/etc/resolv.conf', content: network.resolvConf, mode: 0o644 });
    }
    await pushFiles(this.client, spec.name, files);
  }

  private async adopt(instance: LxdInstance, spec: NodeSpec, call: CallContext): Promise<EnsuredNode> {
    this.requireSameBay(instance, spec, call);
    // A crash between creating the instance and writing its hostname leaves a stopped node without
    // one; writing it again is harmless.
    if (instance.status === 'Stopped') await this.writeIdentity(spec);
    const node = await this.requireNode(spec.name, call);
    return { node, created: false, drift: await this.driftOf(instance, spec) };
  }

  private requireSameBay(instance: LxdInstance, spec: NodeSpec, call: CallContext): void {
    const ownership = ownershipFromConfig(instance.config);
    if (isReleased(instance.config)) {
      throw new NodeConflictError(this.client.context(call), 'the name is taken by a node released from its bay (deletionPolicy Retain)');
    }
    if (!ownership || !sameBay(ownership, spec.ownership)) {
      throw new NodeConflictError(this.client.context(call), `the name is taken by ${describeOwner(ownership)}`);
    }
  }

  /** The image alias is looked up again: an aggregate's new image is drift for nodes of the old one. */
  private async driftOf(instance: LxdInstance, spec: NodeSpec): Promise<NodeDrift[]> {
    const image = await findImageAlias(this.client, spec.image);
    const node = nodeInfoFromInstance(this.name, instance, undefined);
    return nodeDrift(node, { flavor: spec.flavor, kernelModules: this.kernelModules, imageFingerprint: image?.fingerprint });
  }

  /** The instance as it is, with the settings marina owns replaced by what the spec asks now. */
  private reconfigured(instance: LxdInstance, spec: NodeSpec): Record<string, unknown> {
    const wanted = instanceCreateRequest(spec, { storagePool: this.storagePool, kernelModules: this.kernelModules, managedBridge: true });
    const config = { ...instance.config, ...wanted.config };
    if (!('linux.kernel_modules' in wanted.config)) delete config['linux.kernel_modules'];
    const root = { ...instance.devices.root, size: wanted.devices.root?.size ?? '' };
    return { config, devices: { ...instance.devices, root }, profiles: [], ephemeral: false, stateful: false, description: '' };
  }

  private async stopInstance(name: string, options: StopOptions, call: CallContext): Promise<void> {
    const timeout = options.timeoutSeconds ?? DEFAULT_STOP_TIMEOUT_SECONDS;
    if (options.force) {
      await this.changeState(name, { action: 'stop', timeout: -1, force: true }, this.startTimeoutMs, call);
      return;
    }
    try {
      await this.changeState(name, { action: 'stop', timeout, force: false }, (timeout + 30) * 1000, call);
    } catch (error) {
      // A node that ignores the shutdown request is killed: the caller asked for it to be stopped.
      if (!(error instanceof HostOperationError)) throw error;
      await this.changeState(name, { action: 'stop', timeout: -1, force: true }, this.startTimeoutMs, call);
    }
  }

  private async changeState(name: string, body: InstanceStatePut, timeoutMs: number, call: CallContext): Promise<void> {
    try {
      await this.client.run('PUT', `${instancePath(name)}/state`, call, { json: body, operationTimeoutMs: timeoutMs });
    } catch (error) {
      if (isNotFound(error)) throw new NodeNotFoundError(this.client.context(call));
      // Lost the outcome or raced another caller: the instance's status now tells whether it happened.
      const wanted = body.action === 'start' ? 'Running' : 'Stopped';
      const now = await this.readInstance(name, call);
      if (now?.status !== wanted) throw error;
    }
  }

  private async readInstance(name: string, call: CallContext): Promise<LxdInstance | undefined> {
    try {
      return await this.client.get<LxdInstance>(instancePath(name), call);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async requireInstance(name: string, call: CallContext): Promise<LxdInstance> {
    const instance = await this.readInstance(name, call);
    if (!instance) throw new NodeNotFoundError(this.client.context(call));
    return instance;
  }

  private async readState(name: string, call: CallContext): Promise<LxdInstanceState | undefined> {
    try {
      return await this.client.get<LxdInstanceState>(`${instancePath(name)}/state`, call);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  private async requireNode(name: string, call: CallContext): Promise<NodeInfo> {
    const node = await this.getNode(name);
    if (!node) throw new NodeNotFoundError(this.client.context(call));
    return node;
  }

  private async notFoundAsNodeError<T>(call: CallContext, action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      if (isNotFound(error) && !(await this.readInstance(call.instance ?? '', call))) {
        throw new NodeNotFoundError(this.client.context(call));
      }
      throw error;
    }
  }
}

function instancePath(name: string): string {
  return `/1.0/instances/${encodeURIComponent(name)}`;
}


function describeOwner(ownership: NodeOwnership | undefined): string {
  if (!ownership) return 'an instance marina does not manage';
  return `node ${ownership.index} of bay ${ownership.namespace}/${ownership.bayName} (uid ${ownership.bayUid})`;
}

/** LXD reports a lost creation race as a failed operation ("... already exists"). */
function mentionsExisting(error: unknown): boolean {
  return error instanceof HostOperationError && /already exists/i.test(error.message);
}
