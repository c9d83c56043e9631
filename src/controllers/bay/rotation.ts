import type { Bay, CertificateRotation, HandledRequests } from '../../api/types.generated.js';
import { caRenewalDue, type TlsPolicy } from '../../pki/index.js';
import { formatTime } from '../../runtime/conditions.js';

/**
 * When certificates rotate, decided from the bay, its status and the clock alone: pure functions, so
 * the unit tests drive them with a fake clock. The rollout (rollout.ts) does the restarts; this says
 * what is rotating, why, and which step comes next.
 */

/** Any new value re-issues every leaf (node servers, marina's client, the tenant's client). */
export const ROTATE_CERTIFICATES = 'marina.dev/rotate-certificates';
/** Any new value starts a CA rotation: new CA, overlap, old CA dropped. */
export const ROTATE_CA = 'marina.dev/rotate-ca';
/** Any new value rotates the swarm's own CA (node-to-node TLS), as `docker swarm ca --rotate`. */
export const ROTATE_SWARM_CA = 'marina.dev/rotate-swarm-ca';

type RequestKey = keyof HandledRequests;
const ANNOTATION_OF: Record<RequestKey, string> = {
  rotateCertificates: ROTATE_CERTIFICATES,
  rotateCa: ROTATE_CA,
  rotateSwarmCa: ROTATE_SWARM_CA,
};

/** The annotation's value when it asks for something not handled yet. */
export function pendingRequest(bay: Bay, key: RequestKey): string | undefined {
  const value = bay.metadata.annotations?.[ANNOTATION_OF[key]];
  if (value === undefined || value === '') return undefined;
  return value === bay.status?.certificates?.handledRequests?.[key] ? undefined : value;
}

/** What the certificates phase does about rotations before it looks at any leaf. */
export interface RotationStart {
  /** The rotation in progress after this decision (undefined: none). */
  readonly rotation: CertificateRotation | undefined;
  /** Create a new CA now (the rotation just began). */
  readonly newCa: boolean;
  /** A stopped rollout goes on (a new rotate-certificates value after RolloutFailed). */
  readonly resumed: boolean;
}

/**
 * - A rotation in progress goes on; a stopped one resumes on a new rotate-certificates value.
 * - A CA Secret that holds an old CA while status shows no rotation (a crash between the two writes)
 *   is a CA rotation in its first step.
 * - Otherwise a requested or due CA rotation starts, else a requested leaf rotation.
 */
export function rotationAtStart(
  bay: Bay,
  caHasPrevious: boolean,
  caNotAfter: Date,
  policy: TlsPolicy,
  now: Date,
): RotationStart {
  const current = bay.status?.certificates?.rotation;
  const leavesAsked = pendingRequest(bay, 'rotateCertificates');
  const caAsked = pendingRequest(bay, 'rotateCa');
  if (current) {
    if (current.stoppedTime && leavesAsked !== undefined && leavesAsked !== current.request) {
      const { stoppedTime: _stopped, stoppedMessage: _why, ...rest } = current;
      return {
        rotation: { ...rest, request: current.kind === 'Leaves' ? leavesAsked : (current.request ?? '') },
        newCa: false,
        resumed: true,
      };
    }
    // The old CA is gone from the Secret although status still overlaps: the drop was written, status was not.
    if (current.kind === 'CA' && !caHasPrevious && current.step !== 'Dropping')
      return { rotation: { ...current, step: 'Dropping' }, newCa: false, resumed: false };
    return { rotation: current, newCa: false, resumed: false };
  }
  const started = formatTime(startOfRotation(now));
  const requested = (request: string | undefined) =>
    request !== undefined ? { reason: 'Requested' as const, request } : { reason: 'Expiring' as const };
  if (caHasPrevious)
    return {
      rotation: { kind: 'CA', ...requested(caAsked), step: 'Rolling', startedTime: started },
      newCa: false,
      resumed: false,
    };
  if (caAsked !== undefined || caRenewalDue(caNotAfter, policy, now)) {
    return {
      rotation: { kind: 'CA', ...requested(caAsked), step: 'Rolling', startedTime: started },
      newCa: true,
      resumed: false,
    };
  }
  if (leavesAsked !== undefined)
    return {
      rotation: { kind: 'Leaves', ...requested(leavesAsked), step: 'Rolling', startedTime: started },
      newCa: false,
      resumed: false,
    };
  return { rotation: undefined, newCa: false, resumed: false };
}

/**
 * A rotation starts at the next whole second: certificates carry their time to the second, so a leaf
 * issued in the second the request arrived is issued before the start (and renewed), while one issued
 * for the rotation is issued at or after it (see issueTimeOf) and never renewed twice.
 */
export function startOfRotation(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000);
}

/** Leaves issued before this moment are issued anew: those of a requested leaf rotation. */
export function reissueIssuedBefore(rotation: CertificateRotation | undefined): Date | undefined {
  return rotation?.kind === 'Leaves' && rotation.reason === 'Requested' ? new Date(rotation.startedTime) : undefined;
}

/** What follows a rollout pass, for the rotation in progress. */
export type RotationStep =
  | { readonly kind: 'wait' }
  | { readonly kind: 'advance'; readonly rotation: CertificateRotation }
  /** The CA rotation's overlap is over: drop the old CA from the Secret, then roll again. */
  | { readonly kind: 'drop-old-ca'; readonly rotation: CertificateRotation }
  | { readonly kind: 'finished'; readonly handled?: Partial<HandledRequests> };

/**
 * Leaves: done once every node serves its new certificate. CA: Rolling → Overlap (for caOverlap, old
 * credentials still work) → Dropping (nodes stop trusting the old CA) → done.
 */
export function nextRotationStep(
  rotation: CertificateRotation,
  nodesCurrent: boolean,
  policy: TlsPolicy,
  now: Date,
): RotationStep {
  if (rotation.stoppedTime) return { kind: 'wait' };
  if (rotation.step === 'Overlap') {
    const until = rotation.overlapUntil ? Date.parse(rotation.overlapUntil) : now.getTime();
    return now.getTime() >= until
      ? { kind: 'drop-old-ca', rotation: { ...rotation, step: 'Dropping' } }
      : { kind: 'wait' };
  }
  if (!nodesCurrent) return { kind: 'wait' };
  if (rotation.kind === 'CA' && rotation.step === 'Rolling') {
    return {
      kind: 'advance',
      rotation: {
        ...rotation,
        step: 'Overlap',
        overlapUntil: formatTime(new Date(now.getTime() + policy.caOverlapMs)),
      },
    };
  }
  const key: RequestKey = rotation.kind === 'CA' ? 'rotateCa' : 'rotateCertificates';
  return { kind: 'finished', ...(rotation.request !== undefined ? { handled: { [key]: rotation.request } } : {}) };
}

/** When the rotation needs looking at again by the clock alone: the end of the overlap. */
export function rotationWakeAt(rotation: CertificateRotation | undefined): Date | undefined {
  return rotation?.step === 'Overlap' && rotation.overlapUntil && !rotation.stoppedTime
    ? new Date(rotation.overlapUntil)
    : undefined;
}

/** For conditions and Events: what is rotating and why, in words. */
export function describeRotation(rotation: CertificateRotation): string {
  const what = rotation.kind === 'CA' ? 'CA rotation' : 'leaf certificate rotation';
  const why =
    rotation.reason === 'Requested'
      ? `requested (${rotation.request ?? ''})`
      : rotation.reason === 'Repair'
        ? "a node's TLS files are being restored"
        : 'certificates fall due';
  const step =
    rotation.step === 'Rolling'
      ? 'nodes are restarted one at a time with their new certificates'
      : rotation.step === 'Overlap'
        ? `old and new CA are both trusted until ${rotation.overlapUntil}; new credentials are out`
        : 'the old CA is being dropped, node by node';
  return `${what}, ${why}, since ${rotation.startedTime}: ${step}`;
}
