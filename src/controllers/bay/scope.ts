import type { Bay, CertificateRotation, HandledRequests, SwarmCaRotation } from '../../api/types.generated.js';
import type { ScheduleResult } from '../../scheduler/index.js';
import type { BayPki } from './certificates.js';
import type { PublishedCredentials } from './credentials.js';
import type { Discovery } from './discovery.js';
import type { BayFailure, PhaseName } from './failures.js';
import type { BayNetworks } from './network.js';
import type { NodeQuota } from './quota.js';
import type { NodeOutcome } from './nodes.js';
import type { NodePlan, PlannedNode } from './plan.js';
import type { SwarmFacts } from './swarm.js';
import type { SwarmFormation } from './swarm-formation.js';
import type { SwarmUsage } from '../../swarm/index.js';
import type { AutoscaleDecision } from './autoscale.js';
import type { Replacement } from './replacement.js';

/**
 * Everything one reconcile of a bay learns, phase by phase (Cluster API's scope). Each field names the
 * phase that sets it; a field left unset means that phase did not get that far, which status tells
 * apart from a failure by `failures`.
 */
export interface BayScope {
  /** The bay as read from the cache when the reconcile began, plus any status written on the way. */
  bay: Bay;
  /** certificates */
  pki?: BayPki;
  /** discovery */
  discovery?: Discovery;
  /** placement: the grow-only plan, where new nodes go, and the nodes that exist or were placed. */
  plan?: NodePlan;
  scheduled?: ScheduleResult;
  nodes: readonly PlannedNode[];
  /** placement: no eligible host could ever take the flavor. */
  fitsNowhere?: boolean;
  /** placement: the namespace's node quota, and the wanted nodes it held back. */
  quota?: NodeQuota;
  quotaHeld?: { readonly held: number; readonly message: string };
  /** nodes: per node index. */
  readonly outcomes: Map<number, NodeOutcome>;
  /** nodes: the bay's own bridge on each host it uses (isolated mode), by host key. */
  readonly networks: BayNetworks;
  /** certificates: the rotation in progress after this reconcile's decisions (rotation phase may end it). */
  rotation?: CertificateRotation;
  /** certificates and rotation: what finished this time, and the requests it acknowledges. */
  readonly finished: { readonly kind: 'Leaves' | 'CA' | 'SwarmCA'; readonly handled?: Partial<HandledRequests> }[];
  /** nodes: the swarm steps taken as each node came up (swarm-formation.ts). */
  formation?: SwarmFormation;
  /** swarm */
  swarm?: SwarmFacts;
  /** overlay: the encrypted overlay network the swarm has. */
  encryptedOverlay?: string;
  /** autoscale: the usage read from a manager and what autoscaling decided. */
  autoscale?: { readonly usage: SwarmUsage; readonly decision: AutoscaleDecision; readonly capacityNote?: string };
  /** rollout: nodes still to restart, and what this pass did or waits for. */
  rollout?: { pending: number; rolled?: string; waiting?: string; stoppedAt?: string };
  /**
   * placement: the node being replaced (its host is evacuated), and replacement: what it waits for, or
   * that it was retired this time.
   */
  replacement?: Replacement & { waiting?: string; retired?: boolean };
  /** placement: nodes on an older image than their aggregate's alias names now → that alias. */
  outdated?: ReadonlyMap<string, string>;
  /** swarmCa: the swarm CA rotation in progress. */
  swarmCaRotation?: SwarmCaRotation;
  /** credentials */
  credentials?: PublishedCredentials;
  /** What failed, in any phase, typed for the error policy. */
  readonly failures: BayFailure[];
  /** Wall-clock milliseconds per phase, logged with the reconcile (and read by bench/bay-ready.ts). */
  readonly durations: Partial<Record<PhaseName | 'status', number>>;
}

export function newScope(bay: Bay): BayScope {
  const certificates = bay.status?.certificates;
  return {
    bay,
    nodes: [],
    outcomes: new Map(),
    networks: new Map(),
    failures: [],
    durations: {},
    finished: [],
    ...(certificates?.rotation ? { rotation: certificates.rotation } : {}),
    ...(certificates?.swarmCaRotation ? { swarmCaRotation: certificates.swarmCaRotation } : {}),
  };
}
