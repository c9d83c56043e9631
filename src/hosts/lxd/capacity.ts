import { ownershipFromConfig } from '../ownership.js';
import type { Allocation, HostCapacity } from '../types.js';
import type { LxdInstance, LxdResources, LxdStoragePoolResources } from './api-types.js';
import type { CallContext, LxdClient } from './client.js';
import { isNotFound } from './envelope.js';
import { parseBytes, parseCpuLimit } from './units.js';


/**
 * The host's hardware (`GET /1.0/resources`), the size of the node pool, and what every instance on
 * the host — marina's or not — is entitled to by its limits; with the instances listed for it (with
 * their state at recursion 2, so one listing serves an observation too). Limits, not usage: a scheduler places by
 * promises, and an idle node may get busy. Stopped instances count too; they come back at boot.
 */
export async function hostCapacity(client: LxdClient, storagePool: string, instanceRecursion: 1 | 2 = 1): Promise<HostCapacity & { instances: LxdInstance[] }> {
  const call: CallContext = { operation: 'capacity' };
  const [resources, instances, pool] = await Promise.all([
    client.get<LxdResources>('/1.0/resources', call),
    listInstances(client, instanceRecursion, call),
    poolResources(client, storagePool, call),
  ]);
  return {
    host: client.host,
    total: { cpu: resources.cpu.total, memoryBytes: resources.memory.total, diskBytes: pool?.space.total },
    allocated: sumAllocations(instances, resources.memory.total),
    reservedByMarina: sumAllocations(
      instances.filter((instance) => ownershipFromConfig(instance.config) !== undefined),
      resources.memory.total,
    ),
    instances,
  };
}

/** Every instance on the host, each with its configuration (and its state at recursion 2). */
export async function listInstances(client: LxdClient, recursion: 1 | 2, call: CallContext): Promise<LxdInstance[]> {
  return configuredInstances(await client.get<RawListedInstance[]>(`/1.0/instances?recursion=${recursion}`, call));
}

/** An entry of a listing as the daemon sends it: one taken mid-deletion has no config or devices. */
interface RawListedInstance extends Omit<LxdInstance, 'config' | 'devices'> {
  readonly config: LxdInstance['config'] | null;
  readonly devices: LxdInstance['devices'] | null;
}

/**
 * The listed instances that have a configuration. One listed mid-deletion comes with `config: null`;
 * it is gone a moment later, and counting it would fail the whole observation of the host (and with it
 * the host's probe, leaving every bay unschedulable there until the next one).
 */
export function configuredInstances(listed: readonly RawListedInstance[]): LxdInstance[] {
  return listed.filter((instance): instance is LxdInstance => instance.config != null && instance.devices != null);
}

async function poolResources(
  client: LxdClient,
  pool: string,
  call: CallContext,
): Promise<LxdStoragePoolResources | undefined> {
  try {
    return await client.get<LxdStoragePoolResources>(`/1.0/storage-pools/${encodeURIComponent(pool)}/resources`, call);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function sumAllocations(
  instances: readonly LxdInstance[],
  hostMemoryBytes: number,
): Allocation & { unlimitedInstances: number } {
  const allocation = { cpu: 0, memoryBytes: 0, diskBytes: 0, instances: instances.length, unlimitedInstances: 0 };
  for (const instance of instances) {
    const config = instance.expanded_config ?? instance.config;
    const devices = instance.expanded_devices ?? instance.devices;
    const cpu = parseCpuLimit(config['limits.cpu']);
    const memory = parseBytes(config['limits.memory'], hostMemoryBytes);
    if (cpu === undefined || memory === undefined) allocation.unlimitedInstances += 1;
    allocation.cpu += cpu ?? 0;
    allocation.memoryBytes += memory ?? 0;
    allocation.diskBytes += parseBytes(devices.root?.size) ?? 0;
  }
  return allocation;
}
