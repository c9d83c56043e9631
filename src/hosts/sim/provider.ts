import { nodeDrift } from '../drift.js';
import { HostApiError, InvalidNodeSpecError, NodeBusyError, NodeConflictError, NodeNotFoundError } from '../errors.js';
import { DEFAULT_EXEC_TIMEOUT_MS } from '../lxd/exec.js';
import { sumAllocations } from '../lxd/capacity.js';
import { hostsFile, instanceCreateRequest, runStateFromState, SWARM_KERNEL_MODULES } from '../lxd/node-config.js';
import { isReleased, MANAGED_KEY, matchesSelector, ownershipFromConfig, sameBay } from '../ownership.js';
import type { EnsureOptions, HostProvider } from '../provider.js';
import type {
  BayNetwork,
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
import { KERNEL_FEATURE_PROBE, KERNEL_FEATURES } from '../kernel-features.js';
import { validateNodeSpec } from '../validate.js';
import { asLxdInstance, hostnameOf, lxdState, nodeInfo, readFile, type SimInstance } from './instance.js';
import type { SimHost } from './hosts.js';
import type { CallScope, SimWorld } from './world.js';

export interface SimProviderOptions {
  /** Storage pool of the nodes' root disks. Default `default`. */
  readonly storagePool?: string;
  /** Modules a node's configuration asks the host to load. Default SWARM_KERNEL_MODULES. */
  readonly kernelModules?: readonly string[];
}

/**
 * The HostProvider of one simulated host, with the LXD provider's semantics and errors: nodes are
 * created stopped with their hostname written, adopted only by their own bay, reconfigured only
 * when stopped; creations on one provider run one at a time, as the LXD provider's do. Every method
 * is one counted call that sleeps its latency before it acts on the world.
 */
export class SimHostProvider implements HostProvider {
  private readonly storagePool: string;
  private readonly kernelModules: readonly string[];
  private creations: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly world: SimWorld,
    readonly name: string,
    options: SimProviderOptions = {},
  ) {
    this.storagePool = options.storagePool ?? 'default';
    this.kernelModules = options.kernelModules ?? SWARM_KERNEL_MODULES;
  }

  async ensureNode(spec: NodeSpec, options: EnsureOptions = {}): Promise<EnsuredNode> {
    validateNodeSpec(spec, { host: this.name, operation: 'ensure-node', instance: spec.name });
    return this.world.hostCall(this.name, { operation: 'ensure-node', node: spec.name }, async (scope) => {
      if (!scope.host.instances.has(spec.name)) {
        if (options.adoptOnly) throw new NodeNotFoundError(scope.context);
        const created = await this.oneCreationAtATime(() => this.create(scope, spec));
        if (created) return created;
      } else {
        await scope.wait('other');
      }
      // An instance of that name exists (or a concurrent creator just made it): adopt it or refuse.
      return this.adopt(scope, this.requireInstance(scope, spec.name), spec);
    });
  }

  async reconfigureNode(spec: NodeSpec): Promise<EnsuredNode> {
    validateNodeSpec(spec, { host: this.name, operation: 'reconfigure-node', instance: spec.name });
    return this.world.hostCall(this.name, { operation: 'reconfigure-node', node: spec.name }, async (scope) => {
      await scope.wait('other');
      const instance = this.requireInstance(scope, spec.name);
      this.requireSameBay(scope, instance, spec);
      if (instance.status !== 'Stopped') {
        throw new NodeBusyError(
          scope.context,
          `the node is ${instance.status.toLowerCase()}; only a stopped node is reconfigured`,
        );
      }
      const drift = this.driftOf(scope.host, instance, spec);
      if (drift.some((d) => d.setting === 'image')) {
        // An instance cannot change its root filesystem's image: the node is made again, same name.
        this.world.deleteInstance(this.name, spec.name);
        const created = await this.oneCreationAtATime(() => this.create(scope, spec));
        return created ?? this.adopt(scope, this.requireInstance(scope, spec.name), spec);
      }
      if (drift.length > 0) this.applySpec(instance, spec);
      return { node: nodeInfo(instance), created: false, drift: [] };
    });
  }

  async getNode(name: string): Promise<NodeInfo | undefined> {
    return this.world.hostCall(this.name, { operation: 'get-node', node: name }, async (scope) => {
      await scope.wait('other');
      const instance = scope.host.instances.get(name);
      return instance && nodeInfo(instance);
    });
  }

  async nodeState(name: string): Promise<NodeRunState | undefined> {
    return this.world.hostCall(this.name, { operation: 'node-state', node: name }, async (scope) => {
      await scope.wait('other');
      const instance = scope.host.instances.get(name);
      return instance && runStateFromState(lxdState(instance));
    });
  }

  async listNodes(selector: OwnershipSelector): Promise<NodeInfo[]> {
    return this.world.hostCall(this.name, { operation: 'list-nodes' }, async (scope) => {
      await scope.wait('list');
      return this.marinaNodes(scope.host).filter((node) => matchesSelector(node.ownership, selector));
    });
  }

  async startNode(name: string): Promise<void> {
    await this.world.hostCall(this.name, { operation: 'start-node', node: name }, async (scope) => {
      const running = this.requireInstance(scope, name).status === 'Running';
      await scope.wait(running ? 'other' : 'start');
      this.requireInstance(scope, name);
      this.world.startInstance(this.name, name);
    });
  }

  async stopNode(name: string, _options?: StopOptions): Promise<void> {
    await this.world.hostCall(this.name, { operation: 'stop-node', node: name }, async (scope) => {
      const stopped = this.requireInstance(scope, name).status === 'Stopped';
      await scope.wait(stopped ? 'other' : 'stop');
      this.requireInstance(scope, name);
      this.world.stopInstance(this.name, name);
    });
  }

  async releaseNode(name: string): Promise<boolean> {
    return this.world.hostCall(this.name, { operation: 'release-node', node: name }, async (scope) => {
      await scope.wait('other');
      const instance = scope.host.instances.get(name);
      if (!instance) return false;
      instance.config = { ...instance.config, [MANAGED_KEY]: 'false' };
      this.world.changed();
      return true;
    });
  }

  async deleteNode(name: string): Promise<boolean> {
    return this.world.hostCall(this.name, { operation: 'delete-node', node: name }, async (scope) => {
      await scope.wait(scope.host.instances.has(name) ? 'delete' : 'other');
      return this.world.deleteInstance(this.name, name);
    });
  }

  /** One host call (`push-file`, as faults name it) per file, as LXD makes one request per file. */
  async pushFiles(name: string, files: readonly NodeFile[]): Promise<void> {
    for (const file of files) {
      await this.world.hostCall(this.name, { operation: 'push-file', node: name }, async (scope) => {
        await scope.wait('file');
        this.requireInstance(scope, name);
        this.world.hosts.pushFile(this.name, name, file);
      });
    }
  }

  async exec(name: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
    return this.world.hostCall(this.name, { operation: 'exec', node: name }, async (scope) => {
      await scope.wait('exec', options.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS);
      const instance = this.requireInstance(scope, name);
      if (instance.status !== 'Running') throw new HostApiError(scope.context, 400, 'Instance is not running');
      return this.run(instance, command);
    });
  }

  async probe(): Promise<HostIdentity> {
    return this.world.hostCall(this.name, { operation: 'probe', untrustedAllowed: true }, async (scope) => {
      await scope.wait('other');
      const { spec, trusted } = scope.host;
      const environment = { storageDriver: 'btrfs', kernelVersion: '6.1.0-sim', firewall: 'nftables', cgroup2: true };
      return { server: spec.server ?? 'lxd', version: spec.serverVersion ?? '5.0.2', trusted, environment };
    });
  }

  async capacity(): Promise<HostCapacity> {
    return this.world.hostCall(this.name, { operation: 'capacity' }, async (scope) => {
      await scope.wait('list');
      return this.capacityOf(scope.host);
    });
  }

  /** One listing: capacity and marina's unreleased nodes together. */
  async observe(): Promise<HostObservation> {
    return this.world.hostCall(this.name, { operation: 'observe' }, async (scope) => {
      await scope.wait('list');
      return { capacity: this.capacityOf(scope.host), nodes: this.marinaNodes(scope.host) };
    });
  }

  async findImage(alias: string): Promise<ImageRef | undefined> {
    return this.world.hostCall(this.name, { operation: 'find-image' }, async (scope) => {
      await scope.wait('other');
      const fingerprint = this.world.imageFingerprint(this.name, alias);
      return fingerprint === undefined ? undefined : { alias, fingerprint };
    });
  }

  async getBridge(name: string): Promise<BridgeNetwork | undefined> {
    return this.world.hostCall(this.name, { operation: 'get-bridge' }, async (scope) => {
      await scope.wait('other');
      return this.bridgeOf(scope.host, name);
    });
  }

  /**
   * Simulated hosts model one shared bridge per host (their address plan is one subnet per host), so
   * they refuse isolated mode the way a host refuses a setting it cannot honour.
   */
  async ensureBayNetwork(): Promise<BayNetwork> {
    return this.world.hostCall(this.name, { operation: 'ensure-bay-network' }, async (scope) => {
      await scope.wait('other');
      throw new InvalidNodeSpecError(
        { host: this.name, operation: 'ensure-bay-network' },
        'simulated hosts have one shared bridge: use network mode shared',
      );
    });
  }

  /** No bay network is ever made here. */
  async deleteBayNetwork(): Promise<boolean> {
    return false;
  }

  /** Nothing to release: the world outlives its providers. */
  close(): void {}

  private bridgeOf(host: SimHost, name: string): BridgeNetwork | undefined {
    if (host.missingBridges.has(name)) return undefined;
    return { name, managed: true, ipv4Cidr: this.world.bridgeCidr(host.name) };
  }

  private oneCreationAtATime<T>(create: () => Promise<T>): Promise<T> {
    const run = this.creations.then(create, create);
    this.creations = run.catch(() => undefined);
    return run;
  }

  /** undefined: another caller created the instance meanwhile (the caller adopts it). */
  private async create(scope: CallScope, spec: NodeSpec): Promise<EnsuredNode | undefined> {
    await scope.wait('create');
    if (scope.host.instances.has(spec.name)) return undefined;
    if (!this.bridgeOf(scope.host, spec.network.bridge)) {
      throw new InvalidNodeSpecError(scope.context, `bridge ${spec.network.bridge} does not exist on the host`);
    }
    return this.createNow(scope, spec);
  }

  private createNow(scope: CallScope, spec: NodeSpec): EnsuredNode {
    const instance = this.world.hosts.createInstance(scope.host, spec, {
      storagePool: this.storagePool,
      kernelModules: this.kernelModules,
    });
    this.writeIdentity(spec);
    return { node: nodeInfo(instance), created: true, drift: [] };
  }

  /** The image has no /etc/hostname of its own: each node gets one before it first boots. */
  private writeIdentity(spec: NodeSpec): void {
    const hostname = spec.hostname ?? spec.name;
    this.world.hosts.pushFile(this.name, spec.name, { path: '/etc/hostname', content: `${hostname}\n`, mode: 0o644 });
    this.world.hosts.pushFile(this.name, spec.name, { path: '/etc/hosts', content: hostsFile(hostname), mode: 0o644 });
  }

  private adopt(scope: CallScope, instance: SimInstance, spec: NodeSpec): EnsuredNode {
    this.requireSameBay(scope, instance, spec);
    if (instance.status === 'Stopped') this.writeIdentity(spec);
    return { node: nodeInfo(instance), created: false, drift: this.driftOf(scope.host, instance, spec) };
  }

  private requireSameBay(scope: CallScope, instance: SimInstance, spec: NodeSpec): void {
    if (isReleased(instance.config)) {
      throw new NodeConflictError(
        scope.context,
        'the name is taken by a node released from its bay (deletionPolicy Retain)',
      );
    }
    const ownership = ownershipFromConfig(instance.config);
    if (!ownership || !sameBay(ownership, spec.ownership)) {
      throw new NodeConflictError(scope.context, `the name is taken by ${describeOwner(ownership)}`);
    }
  }

  private requireInstance(scope: CallScope, name: string): SimInstance {
    const instance = scope.host.instances.get(name);
    if (!instance) throw new NodeNotFoundError(scope.context);
    return instance;
  }

  /** The alias is looked up again: an aggregate's new image is drift for nodes of the old one. */
  private driftOf(host: SimHost, instance: SimInstance, spec: NodeSpec): NodeDrift[] {
    const imageFingerprint = this.world.imageFingerprint(host.name, spec.image);
    return nodeDrift(nodeInfo(instance), { flavor: spec.flavor, kernelModules: this.kernelModules, imageFingerprint });
  }

  /** The settings marina owns replaced by what the spec asks now (as the LXD provider's PUT does). */
  private applySpec(instance: SimInstance, spec: NodeSpec): void {
    const wanted = instanceCreateRequest(spec, {
      storagePool: this.storagePool,
      kernelModules: this.kernelModules,
      managedBridge: true,
    });
    const config = { ...instance.config, ...wanted.config };
    if (!('linux.kernel_modules' in wanted.config)) delete config['linux.kernel_modules'];
    instance.config = this.world.hosts.internValues(config);
    instance.devices = {
      ...instance.devices,
      root: { ...instance.devices.root, size: wanted.devices.root?.size ?? '' },
    };
    this.world.changed();
  }

  private marinaNodes(host: SimHost): NodeInfo[] {
    return [...host.instances.values()]
      .filter((instance) => !isReleased(instance.config) && ownershipFromConfig(instance.config) !== undefined)
      .map(nodeInfo)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** What the LXD provider computes from a listing: every instance's limits, marina's apart. */
  private capacityOf(host: SimHost): HostCapacity {
    const instances = [...host.instances.values()].map(asLxdInstance);
    const { cpu, memoryBytes, diskBytes } = host.spec;
    return {
      host: this.name,
      total: { cpu, memoryBytes, diskBytes },
      allocated: sumAllocations(instances, memoryBytes),
      reservedByMarina: sumAllocations(
        instances.filter((instance) => ownershipFromConfig(instance.config) !== undefined),
        memoryBytes,
      ),
    };
  }

  /**
   * The commands marina runs in a node, simulated: systemd's handling of docker.service (reload,
   * restart, start, stop, is-active), journalctl (the reason dockerd last failed to start, if any),
   * `cat` of a file and `hostname`. Any other command succeeds with no output.
   */
  private run(instance: SimInstance, command: readonly string[]): ExecResult {
    const [program = '', ...args] = command;
    if (program === 'systemctl') return this.systemctl(instance, args);
    if (program === 'journalctl') return ok(instance.dockerd.failure ? `${instance.dockerd.failure}\n` : '');
    if (program === 'hostname') return ok(`${hostnameOf(instance)}\n`);
    if (command.join(' ') === KERNEL_FEATURE_PROBE.join(' ')) {
      const missing = this.world.hosts.host(this.name).spec.missingModules ?? [];
      return ok(KERNEL_FEATURES.filter((m) => !missing.includes(m)).map((m) => `${m}\n`).join(''));
    }
    if (program === 'cat' && args.length === 1) {
      const file = readFile(instance, args[0]!);
      return file
        ? ok(file.content)
        : { exitCode: 1, stdout: '', stderr: `cat: ${args[0]}: No such file or directory\n` };
    }
    return ok('');
  }

  private systemctl(instance: SimInstance, args: readonly string[]): ExecResult {
    const [verb = '', unit = ''] = args;
    if (verb === 'daemon-reload') {
      this.world.hosts.reloadUnits(this.name, instance.name);
      return ok('');
    }
    if (unit !== 'docker' && unit !== 'docker.service') return ok('');
    if (verb === 'restart' || verb === 'start') {
      const started = this.world.hosts.restartDockerd(this.name, instance.name);
      return { exitCode: started.ok ? 0 : 1, stdout: '', stderr: started.stderr };
    }
    if (verb === 'stop') {
      this.world.killDockerd(this.name, instance.name);
      return ok('');
    }
    if (verb === 'is-active') {
      const up = this.world.dockerdUp(instance);
      return {
        exitCode: up ? 0 : 3,
        stdout: up ? 'active\n' : instance.dockerd.failure ? 'failed\n' : 'inactive\n',
        stderr: '',
      };
    }
    return ok('');
  }
}

function ok(stdout: string): ExecResult {
  return { exitCode: 0, stdout, stderr: '' };
}


function describeOwner(ownership: NodeOwnership | undefined): string {
  if (!ownership) return 'an instance marina does not manage';
  return `node ${ownership.index} of bay ${ownership.namespace}/${ownership.bayName} (uid ${ownership.bayUid})`;
}
