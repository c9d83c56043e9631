import { formatMicroTime } from './micro-time.js';
import type { KubeObject, ResourceType } from './resource.js';

export const LEASE_TYPE: ResourceType = { group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases', namespaced: true };

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  /** MicroTime. */
  acquireTime?: string;
  /** MicroTime. */
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

export interface LeaseClaim {
  readonly identity: string;
  readonly leaseDurationSeconds: number;
  readonly now: number;
  /**
   * Local time at which the current record was first seen. Expiry is judged on the candidate's own
   * clock from that moment, never on the holder's renewTime, so clock skew between replicas does not
   * matter (client-go does the same).
   */
  readonly observedAt: number;
}

/**
 * The spec a candidate writes to take or keep the lease, or undefined while another holder's lease is
 * still valid. A lease without holder (released) is free at once.
 */
export function claimLease(current: LeaseSpec | undefined, claim: LeaseClaim): LeaseSpec | undefined {
  const now = formatMicroTime(claim.now);
  const fresh = { holderIdentity: claim.identity, leaseDurationSeconds: claim.leaseDurationSeconds, renewTime: now };
  if (!current) return { ...fresh, acquireTime: now, leaseTransitions: 0 };
  const holder = current.holderIdentity;
  if (holder === claim.identity) {
    return { ...fresh, acquireTime: current.acquireTime ?? now, leaseTransitions: current.leaseTransitions ?? 0 };
  }
  const validForMs = (current.leaseDurationSeconds ?? claim.leaseDurationSeconds) * 1000;
  if (holder && claim.observedAt + validForMs > claim.now) return undefined;
  return { ...fresh, acquireTime: now, leaseTransitions: (current.leaseTransitions ?? 0) + 1 };
}

/** What a leader writes on a clean shutdown: no holder and a 1 s duration, so a standby takes over at once. */
export function releasedLease(current: LeaseSpec, now: number): LeaseSpec {
  const time = formatMicroTime(now);
  return { leaseDurationSeconds: 1, acquireTime: time, renewTime: time, leaseTransitions: current.leaseTransitions ?? 0 };
}
