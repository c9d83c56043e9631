import { createHash } from 'node:crypto';

import { instanceCreateRequest } from '../lxd/node-config.js';
import type { NodeFile, NodeSpec } from '../types.js';
import type { AddressPlan } from './addresses.js';
import { resolveHostSpec, type SimHostSpec, type SimWorldConfig } from './config.js';
import { reloadUnits, startDockerd, UNIT_FAILED } from './dockerd.js';
import { directoryExists, kernelModulesOf, newDockerdState, type SimInstance } from './instance.js';
import { instanceFromRecord, instanceRecord, type HostRecord, type StringTable } from './persistence.js';
import { SimHostRefusal } from './refusal.js';
import { StringPool } from './string-pool.js';

/** One simulated LXD host: its hardware, its instances, and what the world was told about it. */
export interface SimHost {
  readonly name: string;
  /** Which subnet of the world's network its bridge has. */
  readonly index: number;
  spec: SimHostSpec;
  trusted: boolean;
  /** A fault, not state: a reloaded world has every host reachable. */
  reachable: boolean;
  /** Next node address to hand out (addresses are not reused while others are free). */
  nextAddress: number;
  readonly instances: Map<string, SimInstance>;
  /** Alias → fingerprint told to this host; null: the alias is missing here. */
  readonly images: Map<string, string | null>;
  readonly missingBridges: Set<string>;
}

export interface SimHostsOptions {
  readonly config: Pick<SimWorldConfig, 'defaultHost' | 'hosts'>;
  readonly plan: AddressPlan;
  now(): number;
  /** Something a save should keep has changed. */
  changed(): void;
  /** An instance was deleted (its swarm may be gone with it). */
  deleted(instance: SimInstance): void;
}

/**
 * The hosts of a world and what LXD does on them: instances created, started, stopped, deleted,
 * files pushed, addresses handed out, kernel modules loaded, dockerd (re)started. Synchronous and
 * without latency or faults: the provider adds those around each call.
 */
export class SimHosts {
  private readonly hosts = new Map<string, SimHost>();
  private readonly byAddress = new Map<string, SimInstance>();
  private readonly byUid = new Map<number, SimInstance>();
  /** Fixed addresses (DHCP reservations) of instances, started or not. */
  private readonly reservations = new Map<string, SimInstance>();
  /** Aliases told to every host; null: missing everywhere. */
  readonly images = new Map<string, string | null>();
  private readonly pool = new StringPool();
  serial = 0;

  constructor(private readonly options: SimHostsOptions) {}

  /** The host, created with the default hardware on first use. */
  host(name: string): SimHost {
    let host = this.hosts.get(name);
    if (!host) {
      host = {
        name,
        index: this.nextHostIndex(),
        spec: resolveHostSpec(this.options.config.defaultHost, this.options.config.hosts?.[name]),
        trusted: true,
        reachable: true,
        nextAddress: 0,
        instances: new Map(),
        images: new Map(),
        missingBridges: new Set(),
      };
      this.hosts.set(name, host);
      this.options.changed();
    }
    return host;
  }

  private nextHostIndex(): number {
    let index = 0;
    for (const host of this.hosts.values()) index = Math.max(index, host.index + 1);
    return index;
  }

  all(): SimHost[] {
    return [...this.hosts.values()];
  }

  bridgeCidr(hostName: string): string {
    return this.options.plan.bridgeCidr(this.host(hostName).index);
  }

  instance(hostName: string, name: string): SimInstance | undefined {
    return this.hosts.get(hostName)?.instances.get(name);
  }

  instanceByAddress(address: string): SimInstance | undefined {
    return this.byAddress.get(address);
  }

  instanceByUid(uid: number): SimInstance | undefined {
    return this.byUid.get(uid);
  }

  /** Every alias exists with a fingerprint derived from it, unless the world was told otherwise. */
  imageFingerprint(hostName: string, alias: string): string | undefined {
    const ownImages = this.host(hostName).images;
    const told = ownImages.has(alias) ? ownImages.get(alias) : this.images.get(alias);
    if (told === null) return undefined;
    return told ?? createHash('sha256').update(`image:${alias}`).digest('hex');
  }

  /** Creates a node's instance, stopped, as the LXD provider's create request describes it. */
  createInstance(
    host: SimHost,
    spec: NodeSpec,
    options: { storagePool: string; kernelModules: readonly string[] },
  ): SimInstance {
    const fingerprint = this.imageFingerprint(host.name, spec.image);
    if (fingerprint === undefined) throw new SimHostRefusal('api', `Image alias "${spec.image}" not found`, 404);
    if (host.instances.has(spec.name)) throw new SimHostRefusal('operation', `Instance "${spec.name}" already exists`);
    this.checkReservation(host, spec);
    const request = instanceCreateRequest(spec, { ...options, managedBridge: true });
    const config = this.internValues({ ...request.config, 'volatile.base_image': fingerprint });
    return this.addInstance(host, spec.name, config, request.devices);
  }

  /** Values most nodes share (limits, module list, image) are kept once. */
  internValues(config: Record<string, string>): Record<string, string> {
    for (const key of Object.keys(config)) config[key] = this.pool.intern(config[key]!);
    return config;
  }

  private checkReservation(host: SimHost, spec: NodeSpec): void {
    const address = spec.network.ipv4Address;
    if (address === undefined) return;
    const invalid = (detail: string): SimHostRefusal =>
      new SimHostRefusal('api', `Device validation failed for "eth0": ${detail}`);
    if (!this.options.plan.isNodeAddress(host.index, address)) {
      throw invalid(`Device IP address "${address}" not within network "${spec.network.bridge}" subnet`);
    }
    if (this.reservations.has(address) || this.byAddress.has(address)) {
      throw invalid(`IP address "${address}" already defined on another NIC`);
    }
  }

  addInstance(
    host: SimHost,
    name: string,
    config: Record<string, string>,
    devices: SimInstance['devices'],
  ): SimInstance {
    if (host.instances.has(name)) throw new SimHostRefusal('api', `Instance "${name}" already exists`, 409);
    const instance: SimInstance = {
      name,
      uid: ++this.serial,
      host: host.name,
      status: 'Stopped',
      createdAt: this.options.now(),
      config,
      devices,
      address: undefined,
      files: new Map(),
      dirs: new Set(),
      dockerd: newDockerdState(),
      swarm: undefined,
    };
    this.index(host, instance);
    this.options.changed();
    return instance;
  }

  private index(host: SimHost, instance: SimInstance): void {
    host.instances.set(instance.name, instance);
    this.byUid.set(instance.uid, instance);
    if (instance.address !== undefined) this.byAddress.set(instance.address, instance);
    const reserved = instance.devices.eth0?.['ipv4.address'];
    if (reserved !== undefined) this.reservations.set(reserved, instance);
  }

  /** Starts an instance as `lxc start` would (failing like LXD when a kernel module cannot be loaded). */
  start(hostName: string, name: string): void {
    const host = this.host(hostName);
    const instance = this.require(host, name);
    if (instance.status === 'Running') return;
    const module = this.unloadableModule(host, instance);
    if (module !== undefined) {
      throw new SimHostRefusal(
        'operation',
        `Failed to load kernel module '${module}': Failed to run: modprobe -b ${module}: exit status 1 ` +
          `(modprobe: FATAL: Module ${module} not found in directory /lib/modules/6.1.0-sim)`,
      );
    }
    instance.status = 'Running';
    instance.startedAt = this.options.now();
    this.assignAddress(host, instance);
    reloadUnits(instance);
    startDockerd(instance, this.options.now());
    this.options.changed();
  }

  /** Stops an instance, its dockerd with it, as `lxc stop --force` would. */
  stop(hostName: string, name: string): void {
    const instance = this.require(this.host(hostName), name);
    if (instance.status === 'Stopped') return;
    instance.status = 'Stopped';
    this.options.changed();
  }

  /** Deletes an instance, running or not; false when there was none. */
  delete(hostName: string, name: string): boolean {
    const host = this.host(hostName);
    const instance = host.instances.get(name);
    if (!instance) return false;
    host.instances.delete(name);
    this.byUid.delete(instance.uid);
    forget(this.byAddress, instance.address, instance);
    forget(this.reservations, instance.devices.eth0?.['ipv4.address'], instance);
    this.options.deleted(instance);
    this.options.changed();
    return true;
  }

  /** Writes a file into the instance, as `POST /1.0/instances/<name>/files` does. */
  pushFile(hostName: string, name: string, file: NodeFile): void {
    const instance = this.require(this.host(hostName), name);
    const parents = parentsOf(file.path);
    if (file.createParents) {
      for (const directory of parents) if (!directoryExists(instance, directory)) instance.dirs.add(directory);
    }
    if (!directoryExists(instance, parents.at(-1) ?? '/')) {
      throw new SimHostRefusal('api', `open ${file.path}: no such file or directory`, 404);
    }
    const text = typeof file.content === 'string' ? file.content : Buffer.from(file.content).toString('utf8');
    const content = this.pool.intern(text);
    instance.files.set(file.path, { content, mode: file.mode & 0o7777, uid: file.uid ?? 0, gid: file.gid ?? 0 });
    this.options.changed();
  }

  /** `systemctl daemon-reload` in the node: systemd reads its unit files (marina's drop-in) again. */
  reloadUnits(hostName: string, name: string): void {
    reloadUnits(this.require(this.host(hostName), name));
    this.options.changed();
  }

  /** `systemctl restart docker.service` in the node; not ok when dockerd refused its configuration. */
  restartDockerd(hostName: string, name: string): { ok: boolean; stderr: string } {
    const ok = startDockerd(this.require(this.host(hostName), name), this.options.now());
    this.options.changed();
    return { ok, stderr: ok ? '' : UNIT_FAILED };
  }

  /** dockerd down until the node restarts or docker.service is restarted in it. */
  killDockerd(hostName: string, name: string): void {
    this.require(this.host(hostName), name).dockerd.killed = true;
    this.options.changed();
  }

  private require(host: SimHost, name: string): SimInstance {
    const instance = host.instances.get(name);
    if (!instance) throw new SimHostRefusal('api', 'Instance not found', 404);
    return instance;
  }

  private unloadableModule(host: SimHost, instance: SimInstance): string | undefined {
    const { loadableModules, missingModules } = host.spec;
    return kernelModulesOf(instance).find(
      (module) =>
        missingModules?.includes(module) || (loadableModules !== undefined && !loadableModules.includes(module)),
    );
  }

  /**
   * The node's address from its first start on: its DHCP reservation, else the next free one of the
   * host's subnet. A host whose subnet is full leaves the node without an address, as dnsmasq would.
   */
  private assignAddress(host: SimHost, instance: SimInstance): void {
    if (instance.address !== undefined) return;
    const reserved = instance.devices.eth0?.['ipv4.address'];
    const address = reserved ?? this.freeAddress(host);
    if (address === undefined) return;
    instance.address = address;
    this.byAddress.set(address, instance);
  }

  private freeAddress(host: SimHost): string | undefined {
    const { plan } = this.options;
    const count = plan.nodeAddressCount();
    for (let tried = 0; tried < count; tried++) {
      const address = plan.nodeAddress(host.index, (host.nextAddress + tried) % count);
      if (this.byAddress.has(address) || this.reservations.has(address)) continue;
      host.nextAddress = (host.nextAddress + tried + 1) % count;
      return address;
    }
    return undefined;
  }

  records(table: StringTable): HostRecord[] {
    return this.all().map((host) => ({
      name: host.name,
      index: host.index,
      spec: host.spec,
      trusted: host.trusted,
      nextAddress: host.nextAddress,
      images: [...host.images],
      missingBridges: [...host.missingBridges],
      instances: [...host.instances.values()].map((instance) => instanceRecord(instance, table)),
    }));
  }

  /** Replaces every host by those saved; the configuration's hardware applies over the saved one. */
  restore(records: readonly HostRecord[], strings: readonly string[]): void {
    this.hosts.clear();
    this.byAddress.clear();
    this.byUid.clear();
    this.reservations.clear();
    for (const record of records) {
      const host: SimHost = {
        name: record.name,
        index: record.index,
        spec: resolveHostSpec(record.spec, this.options.config.hosts?.[record.name]),
        trusted: record.trusted,
        reachable: true,
        nextAddress: record.nextAddress,
        instances: new Map(),
        images: new Map(record.images),
        missingBridges: new Set(record.missingBridges),
      };
      this.hosts.set(host.name, host);
      for (const saved of record.instances) this.index(host, instanceFromRecord(saved, host.name, strings));
    }
  }
}

function forget(index: Map<string, SimInstance>, address: string | undefined, instance: SimInstance): void {
  if (address !== undefined && index.get(address) === instance) index.delete(address);
}

/** `/etc/docker/certs/ca.pem` → [`/etc`, `/etc/docker`, `/etc/docker/certs`]. */
function parentsOf(path: string): string[] {
  const parts = path.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}
