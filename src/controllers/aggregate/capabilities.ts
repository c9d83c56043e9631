import type { HostStatus } from '../../api/types.generated.js';
import {
  KERNEL_FEATURES,
  probeKernelFeatures,
  type HostEnvironment,
  type HostProvider,
  type KernelFeature,
  type NodeInfo,
} from '../../hosts/index.js';

/** What goes missing without each kernel feature swarm bays rely on. */
const WITHOUT: Record<KernelFeature, string> = {
  ip_vs:
    'no ip_vs: the swarm routing mesh (service VIPs, ports published on every node) does not work; bays founded ' +
    'here have no ingress network (a port published in ingress mode is refused); publish with mode=host',
  br_netfilter: 'no br_netfilter: swarm cannot filter traffic between containers on a bridge',
  overlay: 'no overlay filesystem: dockerd in the nodes falls back to a slow storage driver',
  vxlan: 'no vxlan: overlay networks between nodes do not work',
  esp4: 'no esp4 (IPsec ESP with AES-GCM): encrypted overlay networks cannot carry traffic between nodes',
};

export type HostCapabilities = NonNullable<HostStatus['capabilities']>;

export function hostCapabilities(
  env: HostEnvironment | undefined,
  present: readonly string[] | undefined,
): HostCapabilities {
  const missing = present ? KERNEL_FEATURES.filter((m) => !present.includes(m)) : [];
  const warnings: string[] = missing.map((m) => WITHOUT[m]);
  if (env?.cgroup2 === false) warnings.push('cgroup v1: node limits are enforced less precisely');
  return {
    ...(env?.storageDriver ? { storageDriver: env.storageDriver } : {}),
    ...(env?.kernelVersion ? { kernel: env.kernelVersion } : {}),
    ...(env?.firewall ? { firewall: env.firewall } : {}),
    ...(env?.cgroup2 !== undefined ? { cgroup2: env.cgroup2 } : {}),
    ...(present ? { kernelModules: { present: KERNEL_FEATURES.filter((m) => present.includes(m)), missing } } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

/** What a node saw of the host's kernel, kept per host: modules change with a reboot, rarely otherwise. */
interface ModuleSighting {
  readonly kernel: string | undefined;
  readonly at: number;
  readonly present: readonly string[];
}

const SIGHTING_MAX_AGE_MS = 60 * 60_000;

/**
 * The host's kernel modules as seen from one of marina's running nodes there, asked at most once an
 * hour per host (and again when the kernel changed); undefined while no node runs or the look failed.
 */
export class KernelModuleSightings {
  private readonly seen = new Map<string, ModuleSighting>();

  constructor(private readonly now: () => number = Date.now) {}

  async lookup(
    key: string,
    kernel: string | undefined,
    provider: HostProvider,
    nodes: Iterable<NodeInfo>,
  ): Promise<readonly string[] | undefined> {
    const known = this.seen.get(key);
    if (known && known.kernel === kernel && this.now() - known.at < SIGHTING_MAX_AGE_MS) return known.present;
    const node = [...nodes].find((n) => n.status === 'running');
    if (!node) return known?.kernel === kernel ? known?.present : undefined;
    const present = await probeKernelFeatures(provider, node.name);
    if (!present) return known?.present;
    this.seen.set(key, { kernel, at: this.now(), present });
    return present;
  }
}
