import { bayNetworkOf, gatewayCidr, walledRanges } from '../bay-network.js';
import { BayNetworkError } from '../errors.js';
import { firstFreeSubrange, parseRange, rangesOverlap, type Ipv4Range } from '../ipv4.js';
import { OWNERSHIP_KEYS } from '../ownership.js';
import type { BayNetwork, BayNetworkOwner, BayNetworkSpec } from '../types.js';
import type { ConfigMap, LxdNetwork } from './api-types.js';
import type { CallContext, LxdClient } from './client.js';
import { isNotFound } from './envelope.js';

/**
 * A bay's own bridge on an LXD or Incus host, walled by a network ACL of the same name.
 *
 * LXD 5.0 and Incus 6.0 apply ACLs only where traffic crosses between a bridge and the host, not
 * between two instances of one bridge (per-NIC ACLs came in Incus 6.9). A bridge per bay puts every
 * other bay across that boundary. With br_netfilter loaded the kernel hands bridged traffic to the same
 * hooks, so the ACL refuses the pool *without* the bay's own subnet, never the whole pool. The daemon
 * owns the bridge and its rules and restores both when it or the host restarts.
 */

interface AclRule {
  readonly action: 'reject';
  readonly source?: string;
  readonly destination?: string;
  readonly state: 'enabled';
  readonly description: string;
}

interface LxdNetworkAcl {
  readonly name: string;
  readonly description: string;
  readonly config: ConfigMap;
  readonly egress: readonly AclRule[];
  readonly ingress: readonly AclRule[];
}

const ownerConfig = (owner: BayNetworkOwner): ConfigMap => ({
  [OWNERSHIP_KEYS.bayUid]: owner.bayUid,
  [OWNERSHIP_KEYS.namespace]: owner.namespace,
  [OWNERSHIP_KEYS.bayName]: owner.bayName,
});

/** Whose network it is, without naming another tenant's bay (the message reaches this bay's status). */
const describeOwner = (config: ConfigMap): string =>
  config[OWNERSHIP_KEYS.bayUid] ? 'another bay' : 'a network marina did not make';

/** The ACL's rules: nothing to or from the rest of the pool. */
function wallAcl(spec: BayNetworkSpec, subnet: string): Omit<LxdNetworkAcl, 'name'> {
  const elsewhere = walledRanges(spec.subnetPool, subnet).join(',');
  const bay = `${spec.owner.namespace}/${spec.owner.bayName}`;
  return {
    description: `marina: walls of bay ${bay}`,
    config: ownerConfig(spec.owner),
    egress: [{ action: 'reject', destination: elsewhere, state: 'enabled', description: 'other bays' }],
    ingress: [{ action: 'reject', source: elsewhere, state: 'enabled', description: 'other bays' }],
  };
}

function bridgeConfig(spec: BayNetworkSpec, subnet: Ipv4Range): ConfigMap {
  return {
    'ipv4.address': gatewayCidr(subnet),
    'ipv4.nat': 'true',
    'ipv6.address': 'none',
    'security.acls': spec.name,
    'security.acls.default.egress.action': 'allow',
    'security.acls.default.ingress.action': 'allow',
    ...ownerConfig(spec.owner),
  };
}

export class LxdBayNetworks {
  /** Subnets are chosen one at a time per host: two bays must never pick the same free one. */
  private allocations: Promise<unknown> = Promise.resolve();

  constructor(private readonly client: LxdClient) {}

  /**
   * The bay's bridge, created with a free subnet of the pool when missing; an existing one is adopted
   * and its walls restored. Throws BayNetworkError when the name belongs to something else or the pool
   * is full.
   */
  ensure(spec: BayNetworkSpec): Promise<BayNetwork> {
    const run = this.allocations.then(
      () => this.ensureNow(spec),
      () => this.ensureNow(spec),
    );
    this.allocations = run.catch(() => undefined);
    return run;
  }

  /** Deletes the bridge and its ACL. False when neither existed. A bridge in use is an error (the daemon says so). */
  async delete(name: string): Promise<boolean> {
    const call: CallContext = { operation: 'delete-bay-network' };
    const network = await this.deleteIfPresent(`/1.0/networks/${encodeURIComponent(name)}`, call);
    const acl = await this.deleteIfPresent(`/1.0/network-acls/${encodeURIComponent(name)}`, call);
    return network || acl;
  }

  private async ensureNow(spec: BayNetworkSpec): Promise<BayNetwork> {
    const call: CallContext = { operation: 'ensure-bay-network' };
    await this.client.requireTrusted(call);
    const networks = await this.client.get<LxdNetwork[]>('/1.0/networks?recursion=1', call);
    const existing = networks.find((n) => n.name === spec.name);
    if (existing) return this.adopt(existing, spec, call);
    const subnet = this.freeSubnet(spec, networks, call);
    // The ACL first: a bridge never exists without its walls.
    await this.putAcl(spec, bayNetworkOf(spec.name, subnet).subnet, call);
    await this.client.call('POST', '/1.0/networks', call, {
      json: {
        name: spec.name,
        type: 'bridge',
        description: `marina: bay ${spec.owner.namespace}/${spec.owner.bayName}`,
        config: bridgeConfig(spec, subnet),
      },
    });
    return bayNetworkOf(spec.name, subnet);
  }

  private async adopt(network: LxdNetwork, spec: BayNetworkSpec, call: CallContext): Promise<BayNetwork> {
    if (network.config[OWNERSHIP_KEYS.bayUid] !== spec.owner.bayUid) {
      throw new BayNetworkError(
        this.client.context(call),
        'name-taken',
        `the network ${spec.name} belongs to ${describeOwner(network.config)}`,
      );
    }
    const subnet = parseRange(network.config['ipv4.address'] ?? '');
    await this.putAcl(spec, bayNetworkOf(spec.name, subnet).subnet, call);
    if (network.config['security.acls'] !== spec.name) {
      await this.client.call('PATCH', `/1.0/networks/${encodeURIComponent(spec.name)}`, call, {
        json: { config: { 'security.acls': spec.name } },
      });
    }
    return bayNetworkOf(spec.name, subnet);
  }

  private freeSubnet(spec: BayNetworkSpec, networks: readonly LxdNetwork[], call: CallContext): Ipv4Range {
    const pool = parseRange(spec.subnetPool);
    const taken = networks.flatMap((n) => {
      const address = n.config['ipv4.address'];
      if (!address || address === 'none') return [];
      try {
        const range = parseRange(address);
        return rangesOverlap(range, pool) ? [range] : [];
      } catch {
        return [];
      }
    });
    const subnet = firstFreeSubrange(pool, spec.prefixLength, taken);
    if (!subnet) {
      throw new BayNetworkError(
        this.client.context(call),
        'pool-full',
        `no free /${spec.prefixLength} is left in the subnet pool ${spec.subnetPool}`,
      );
    }
    return subnet;
  }

  /** Creates the ACL, or puts back its rules when someone changed them. */
  private async putAcl(spec: BayNetworkSpec, subnet: string, call: CallContext): Promise<void> {
    const wanted = wallAcl(spec, subnet);
    const path = `/1.0/network-acls/${encodeURIComponent(spec.name)}`;
    let current: LxdNetworkAcl | undefined;
    try {
      current = await this.client.get<LxdNetworkAcl>(path, call);
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!current) {
      await this.client.call('POST', '/1.0/network-acls', call, { json: { name: spec.name, ...wanted } });
    } else if (!sameRules(current, wanted)) {
      await this.client.call('PUT', path, call, { json: wanted });
    }
  }

  private async deleteIfPresent(path: string, call: CallContext): Promise<boolean> {
    try {
      await this.client.call('DELETE', path, call);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

const ruleKey = (r: AclRule): string => `${r.action}|${r.source ?? ''}|${r.destination ?? ''}|${r.state}`;

function sameRules(
  current: Pick<LxdNetworkAcl, 'egress' | 'ingress'>,
  wanted: Pick<LxdNetworkAcl, 'egress' | 'ingress'>,
): boolean {
  const keys = (rules: readonly AclRule[]): string => rules.map(ruleKey).sort().join(';');
  return keys(current.egress) === keys(wanted.egress) && keys(current.ingress) === keys(wanted.ingress);
}
