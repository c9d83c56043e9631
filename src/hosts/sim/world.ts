import type Docker from 'dockerode';

import { HostAuthError, HostTimeoutError, HostUnreachableError, type HostErrorContext } from '../errors.js';
import { AddressPlan } from './addresses.js';
import {
  DEFAULT_DOCKER_CONFIG,
  resolveHostSpec,
  type LatencyClass,
  type SimDockerConfig,
  type SimHostSpec,
  type SimWorldConfig,
} from './config.js';
import { CallCounters, type CallCounts } from './counters.js';
import { simDockerode, type EngineWorld, type SimDockerOptions } from './docker-engine.js';
import { dockerdUp, listenerOn } from './dockerd.js';
import {
  FaultBook,
  hostFaultError,
  hostFaultMatches,
  type DockerFaultSpec,
  type FaultHandle,
  type HostCall,
  type HostFaultSpec,
} from './faults.js';
import { SimHosts, type SimHost } from './hosts.js';
import { readFile, type SimInstance } from './instance.js';
import { Latency, sleep } from './latency.js';
import {
  DebouncedSaver,
  StringTable,
  readWorldFile,
  writeWorldFile,
  WORLD_FILE_FORMAT,
  WORLD_FILE_VERSION,
  type WorldFile,
} from './persistence.js';
import { SimHostProvider, type SimProviderOptions } from './provider.js';
import { SimHostRefusal } from './refusal.js';
import { Swarms } from './swarm.js';

/** One host API call in progress: the host, what to name in errors, and its latency to sleep. */
export interface CallScope {
  readonly host: SimHost;
  readonly context: HostErrorContext;
  /**
   * Sleeps a draw of this class's latency; a host that became unreachable meanwhile fails the call,
   * and a draw longer than `timeoutMs` ends in HostTimeoutError when that time has passed.
   */
  wait(kind: LatencyClass, timeoutMs?: number): Promise<void>;
}

/** A dockerode client of a simulated node, shaped like the swarm layer's DockerClient. */
export interface SimDockerClient {
  readonly address: string;
  readonly port: number;
  readonly endpoint: string;
  readonly docker: Docker;
}

/** An instance marina does not own, for conflicts and for capacity others use. */
export interface ForeignInstance {
  readonly name: string;
  readonly cpu?: number;
  readonly memoryBytes?: number;
  readonly diskBytes?: number;
  readonly running?: boolean;
  /** Extra configuration keys, e.g. marina's ownership keys of a bay to impersonate. */
  readonly config?: Readonly<Record<string, string>>;
}

const UNTRUSTED =
  "the host does not trust marina's client certificate; add it with `lxc config trust add` (see docs/hosts.md)";

/**
 * A simulated world of LXD hosts and of the dockerds in their nodes, for the fleet benchmark and the
 * operator's orchestration tests (never instead of an e2e test of real hosts). Providers of the
 * same host share its state; every call is counted, sleeps its latency on real timers and may run
 * into an injected fault.
 */
export class SimWorld implements EngineWorld {
  /** Opens the world kept in `config.file` when there is one, else a new one (saved there later). */
  static async open(config: SimWorldConfig = {}): Promise<SimWorld> {
    const world = new SimWorld(config);
    const file = config.file === undefined ? undefined : await readWorldFile(config.file);
    if (file) world.restore(file);
    return world;
  }

  readonly latency: Latency;
  readonly counters = new CallCounters();
  readonly hostFaults = new FaultBook<HostFaultSpec>();
  readonly dockerFaults = new FaultBook<DockerFaultSpec>();
  readonly dockerConfig: SimDockerConfig;
  readonly hosts: SimHosts;
  readonly swarms: Swarms;
  private readonly saver: DebouncedSaver | undefined;

  /** A new, empty world; use `SimWorld.open` to load one from its file. */
  constructor(private readonly config: SimWorldConfig = {}) {
    this.latency = new Latency(config.latency);
    this.dockerConfig = { ...DEFAULT_DOCKER_CONFIG, ...config.docker };
    this.hosts = new SimHosts({
      config,
      plan: new AddressPlan(config.network),
      now: () => this.now(),
      changed: () => this.changed(),
      deleted: (instance) => this.swarms.instanceGone(instance),
    });
    this.swarms = new Swarms({
      now: () => this.now(),
      instance: (uid) => this.hosts.instanceByUid(uid),
      dockerdUp: (instance) => this.dockerdUp(instance),
      engineVersion: this.dockerConfig.engineVersion,
      caRotationMs: this.dockerConfig.caRotationMs,
      changed: () => this.changed(),
    });
    this.saver = config.file === undefined ? undefined : this.saverTo(config.file);
    this.addConfiguredHosts();
  }

  /** Hosts the configuration names exist from the start, in the order it names them. */
  private addConfiguredHosts(): void {
    for (const name of Object.keys(this.config.hosts ?? {})) this.hosts.host(name);
  }

  // ---- factories ------------------------------------------------------------------------------

  /** The HostProvider of a host (created with the default hardware the first time it is named). */
  provider(hostName: string, options: SimProviderOptions = {}): SimHostProvider {
    this.hosts.host(hostName);
    return new SimHostProvider(this, hostName, options);
  }

  /** dockerode for the dockerd at `address` (port 2376 unless told otherwise). */
  docker(address: string, options: SimDockerOptions = {}): Docker {
    return simDockerode(this, address, options);
  }

  /** What the operator's NodeDockerFactory returns, for the node at `address`. */
  dockerClient(address: string, options: SimDockerOptions = {}): SimDockerClient {
    const port = options.port ?? 2376;
    return { address, port, endpoint: `${address}:${port}`, docker: this.docker(address, options) };
  }

  // ---- hosts and what is on them (treat what is returned as read-only) ---------------------

  /** Declares a host or changes its hardware (instances are kept). */
  defineHost(name: string, spec: Partial<SimHostSpec> = {}): void {
    const host = this.hosts.host(name);
    host.spec = resolveHostSpec(this.config.defaultHost, host.spec, spec);
    this.changed();
  }

  hostNames(): string[] {
    return this.hosts.all().map((host) => host.name);
  }

  /** The host's bridge address with prefix: every node of the host gets an address in it. */
  bridgeCidr(hostName: string): string {
    return this.hosts.bridgeCidr(hostName);
  }

  instance(hostName: string, name: string): SimInstance | undefined {
    return this.hosts.instance(hostName, name);
  }

  instances(hostName?: string): SimInstance[] {
    const hosts = this.hosts.all().filter((host) => hostName === undefined || host.name === hostName);
    return hosts.flatMap((host) => [...host.instances.values()]);
  }

  instanceByAddress(address: string): SimInstance | undefined {
    return this.hosts.instanceByAddress(address);
  }

  /** The certificate chain the dockerd at `address` serves on its TLS port now; undefined when none answers. */
  servedCertificate(address: string): string | undefined {
    const instance = this.instanceByAddress(address);
    if (!instance || listenerOn(instance, 2376, this.now(), this.dockerConfig.bootMs) !== 'tls') return undefined;
    return instance.dockerd.servedCertificate;
  }

  /** A file as the node sees it: pushed, or from the image. */
  readFile(hostName: string, name: string, path: string): string | undefined {
    const instance = this.instance(hostName, name);
    return instance && readFile(instance, path)?.content;
  }

  /** Every alias exists with a fingerprint derived from it, unless the world was told otherwise. */
  imageFingerprint(hostName: string, alias: string): string | undefined {
    return this.hosts.imageFingerprint(hostName, alias);
  }

  /** Swarms whose members still exist. */
  get swarmCount(): number {
    return this.swarms.size;
  }

  // ---- faults and changes behind marina's back ----------------------------------------------

  /** An unreachable host fails every call with HostUnreachableError (its nodes keep running). */
  setHostReachable(hostName: string, reachable: boolean): void {
    this.hosts.host(hostName).reachable = reachable;
  }

  /** An untrusted host answers probes (trusted: false) and refuses everything else. */
  setHostTrusted(hostName: string, trusted: boolean): void {
    this.hosts.host(hostName).trusted = trusted;
    this.changed();
  }

  injectFault(spec: HostFaultSpec): FaultHandle {
    return this.hostFaults.add(spec);
  }

  injectDockerFault(spec: DockerFaultSpec): FaultHandle {
    return this.dockerFaults.add(spec);
  }

  /** Removes every injected fault and makes every host reachable again. */
  clearFaults(): void {
    this.hostFaults.clear();
    this.dockerFaults.clear();
    for (const host of this.hosts.all()) host.reachable = true;
  }

  /** Points an alias at a fingerprint, on one host or (without `hostName`) on every host. */
  setImage(alias: string, fingerprint: string, hostName?: string): void {
    (hostName === undefined ? this.hosts.images : this.hosts.host(hostName).images).set(alias, fingerprint);
    this.changed();
  }

  /** Makes an alias missing, on one host or on every host. */
  removeImage(alias: string, hostName?: string): void {
    (hostName === undefined ? this.hosts.images : this.hosts.host(hostName).images).set(alias, null);
    this.changed();
  }

  setBridgeMissing(hostName: string, bridge: string, missing = true): void {
    const bridges = this.hosts.host(hostName).missingBridges;
    if (missing) bridges.add(bridge);
    else bridges.delete(bridge);
    this.changed();
  }

  /** Creates an instance without marina's ownership keys (unless `config` brings some). */
  addForeignInstance(hostName: string, foreign: ForeignInstance): SimInstance {
    const config: Record<string, string> = { ...foreign.config };
    if (foreign.cpu !== undefined) config['limits.cpu'] = String(foreign.cpu);
    if (foreign.memoryBytes !== undefined) config['limits.memory'] = String(foreign.memoryBytes);
    const devices: SimInstance['devices'] = {};
    if (foreign.diskBytes !== undefined) {
      devices.root = { type: 'disk', path: '/', pool: 'default', size: String(foreign.diskBytes) };
    }
    const instance = this.hosts.addInstance(this.hosts.host(hostName), foreign.name, config, devices);
    if (foreign.running) this.startInstance(hostName, foreign.name);
    return instance;
  }

  /** Starts an instance as `lxc start` would (failing like LXD when a kernel module cannot be loaded). */
  startInstance(hostName: string, name: string): void {
    this.hosts.start(hostName, name);
  }

  /** Stops an instance, its dockerd with it, as `lxc stop --force` would. */
  stopInstance(hostName: string, name: string): void {
    this.hosts.stop(hostName, name);
  }

  /** Deletes an instance, running or not; false when there was none. */
  deleteInstance(hostName: string, name: string): boolean {
    return this.hosts.delete(hostName, name);
  }

  /** Kills the node's dockerd: down until the node restarts or docker.service is restarted in it. */
  killDockerd(hostName: string, name: string): void {
    this.hosts.killDockerd(hostName, name);
  }

  // ---- counters -----------------------------------------------------------------------------

  calls(): CallCounts {
    return this.counters.snapshot();
  }

  /** Host API calls, to one host and one operation, or fewer filters. */
  callCount(hostName?: string, operation?: string): number {
    return this.counters.hostCalls(hostName, operation);
  }

  /** dockerd calls, of one route (`GET /nodes`) or all. */
  dockerCallCount(route?: string): number {
    return this.counters.dockerCallCount(route);
  }

  resetCalls(): void {
    this.counters.reset();
  }

  // ---- persistence --------------------------------------------------------------------------

  /** Writes the world to its file now (no-op without a file). */
  async save(): Promise<void> {
    if (!this.saver) return;
    this.saver.markDirty();
    await this.saver.flush();
  }

  /** Writes what a pending save would have written; the world stays usable. */
  async close(): Promise<void> {
    await this.saver?.flush();
  }

  /** Something a save should keep has changed. */
  changed(): void {
    this.saver?.schedule();
  }

  private saverTo(file: string): DebouncedSaver {
    const write = (): Promise<void> => writeWorldFile(file, JSON.stringify(this.snapshot()));
    return new DebouncedSaver(write, this.config.saveDebounceMs ?? 1_000, (error) => {
      console.error(`saving the simulated world to ${file} failed`, error);
    });
  }

  /** The world as it is saved. */
  snapshot(): WorldFile {
    const table = new StringTable();
    const hosts = this.hosts.records(table);
    return {
      format: WORLD_FILE_FORMAT,
      version: WORLD_FILE_VERSION,
      serial: this.hosts.serial,
      images: [...this.hosts.images],
      strings: table.strings,
      hosts,
      swarms: this.swarms.toJSON(),
    };
  }

  private restore(file: WorldFile): void {
    this.hosts.serial = file.serial;
    for (const [alias, fingerprint] of file.images) this.hosts.images.set(alias, fingerprint);
    this.hosts.restore(file.hosts, file.strings);
    this.swarms.load(file.swarms);
    this.addConfiguredHosts();
  }

  // ---- what providers and dockerds run on ---------------------------------------------------

  now(): number {
    return Date.now();
  }

  dockerdUp(instance: SimInstance): boolean {
    return dockerdUp(instance, this.now(), this.dockerConfig.bootMs);
  }

  listenerOn(instance: SimInstance, port: number): 'tls' | 'plain' | undefined {
    return listenerOn(instance, port, this.now(), this.dockerConfig.bootMs);
  }

  /**
   * Runs one host API call: counted, refused by an unreachable or untrusted host, subject to
   * injected faults before and after its work. `run` sleeps its latency through the scope, then
   * changes the world synchronously, so concurrent calls interleave only between those steps.
   */
  async hostCall<T>(
    hostName: string,
    call: { readonly operation: string; readonly node?: string; readonly untrustedAllowed?: boolean },
    run: (scope: CallScope) => Promise<T>,
  ): Promise<T> {
    this.counters.countHost(hostName, call.operation);
    const host = this.hosts.host(hostName);
    const context: HostErrorContext =
      call.node === undefined
        ? { host: hostName, operation: call.operation }
        : { host: hostName, operation: call.operation, instance: call.node };
    const faultCall: HostCall = { host: hostName, operation: call.operation, node: call.node, when: 'before' };
    this.failIfUnreachable(host, context);
    this.fireFault(faultCall, context);
    if (!host.trusted && !call.untrustedAllowed) throw new HostAuthError(context, UNTRUSTED);
    let result: T;
    try {
      result = await run({ host, context, wait: (kind, timeoutMs) => this.wait(host, context, kind, timeoutMs) });
    } catch (error) {
      throw error instanceof SimHostRefusal ? error.toHostError(context) : error;
    }
    this.fireFault({ ...faultCall, when: 'after' }, context);
    return result;
  }

  private async wait(host: SimHost, context: HostErrorContext, kind: LatencyClass, timeoutMs?: number): Promise<void> {
    const took = this.latency.draw(kind);
    await sleep(Math.min(took, timeoutMs ?? took));
    if (timeoutMs !== undefined && took > timeoutMs) throw new HostTimeoutError(context, timeoutMs);
    this.failIfUnreachable(host, context);
  }

  private failIfUnreachable(host: SimHost, context: HostErrorContext): void {
    if (!host.reachable) throw new HostUnreachableError(context, `sim://${host.name}: connect ECONNREFUSED`);
  }

  private fireFault(call: HostCall, context: HostErrorContext): void {
    const fault = this.hostFaults.take((spec) => hostFaultMatches(spec, call));
    if (fault) throw hostFaultError(fault, context);
  }
}
