import type { Bay, HostAggregate } from '../../api/types.generated.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { Informer } from '../../runtime/informer.js';
import type { KubeClient } from '../../runtime/kube-client.js';
import type { DockerClient } from '../../swarm/index.js';
import type { HostInventory } from '../hosts/inventory.js';
import type { HostRegistry } from '../hosts/registry.js';
import type { NamespaceObject } from '../kinds.js';
import type { MarinaMetrics } from '../metrics.js';
import type { PlacementLedger } from './placement.js';
import type { NodeAddressBook } from './node-addresses.js';
import type { NodeQuotaLedger } from './quota.js';
import type { SecretAccess } from './secrets.js';

/** How marina reaches one node's dockerd with the bay's CA and its own client certificate. */
export type NodeDockerFactory = (tls: NodeDockerTls, address: string, timeoutMs?: number) => DockerClient;

export interface NodeDockerTls {
  readonly caPems: readonly string[];
  readonly certPem: string;
  readonly keyPem: string;
}

/** The serial (lowercase hex) of the certificate the dockerd at `address` serves, read over verified TLS. */
export type ServedCertificateReader = (tls: NodeDockerTls, address: string) => Promise<string>;

export interface NodeTimeouts {
  readonly addressMs: number;
  readonly dockerMs: number;
  /** A rollout's wait for a drained node's tasks to stop, and for it to rejoin and its services to run again. */
  readonly rolloutStepMs: number;
  /**
   * How long a node that never served workloads may run without becoming ready before it is restarted
   * (Cluster API's nodeStartupTimeout, with a restart instead of a new machine).
   */
  readonly startupMs: number;
}

export const DEFAULT_NODE_TIMEOUTS: NodeTimeouts = {
  addressMs: 120_000,
  dockerMs: 120_000,
  rolloutStepMs: 120_000,
  startupMs: 180_000,
};

export interface BayTiming {
  /** How often a converged bay is checked again (swarm members, node health); a safety net, not a poll. */
  readonly resyncMs: number;
  /** How soon a bay that is making progress (nodes booting, joining) is looked at again. */
  readonly retryMs: number;
  /** How old a host's observation may be when a bay reads it (the probe refreshes it each interval). */
  readonly hostMaxAgeMs: number;
  /** How often an autoscaled bay's reserved resources are read from a manager (other bays: never). */
  readonly usageIntervalMs: number;
}

/**
 * Everything the bay controller works with, in one object (kube-rs' Context): the injection point for
 * tests, the simulated hosts of the fleet benchmark, and the only place wiring is visible.
 */
export interface BayControllerDeps {
  readonly client: KubeClient;
  readonly bays: Informer<Bay>;
  readonly aggregates: Informer<HostAggregate>;
  readonly namespaces: Informer<NamespaceObject>;
  readonly secrets: SecretAccess;
  readonly registry: HostRegistry;
  readonly inventory: HostInventory;
  readonly events: EventRecorder;
  readonly ledger: PlacementLedger;
  /** What each bay holds against its namespace's node quota, noted as it is planned. */
  readonly quotaLedger: NodeQuotaLedger;
  /** Node addresses granted on the hosts' networks (bridged mode) and not yet seen on a host. */
  readonly addressBook: NodeAddressBook;
  readonly docker: NodeDockerFactory;
  readonly servedCertificate: ServedCertificateReader;
  readonly metrics?: MarinaMetrics;
  readonly timeouts: NodeTimeouts;
  readonly timing: BayTiming;
}
