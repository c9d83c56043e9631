import {
  BayNetworkError,
  HostApiError,
  HostError,
  HostOperationError,
  InvalidNodeSpecError,
  NodeConflictError,
} from '../../hosts/index.js';
import { ApiError, TransportError } from '../../runtime/errors.js';
import { SwarmError } from '../../swarm/index.js';
import { REASONS, type Reason } from './reasons.js';
import { SecretConflictError } from './secrets.js';

export type PhaseName =
  | 'certificates'
  | 'discovery'
  | 'placement'
  | 'nodes'
  | 'swarm'
  | 'overlay'
  | 'autoscale'
  | 'rollout'
  | 'replacement'
  | 'swarmCa'
  | 'rotation'
  | 'credentials';

/**
 * transient: retrying may cure it (a host briefly away, a node that failed to start) — the bay is
 * retried with per-key exponential backoff. terminal: only a person can cure it (a name taken by
 * something else, a configuration the host refuses) — the bay waits for a change to it or its
 * aggregates.
 */
export type FailureKind = 'transient' | 'terminal';

/** A phase's failure, typed all the way to the error policy and the conditions. */
export interface BayFailure {
  readonly phase: PhaseName;
  readonly kind: FailureKind;
  readonly reason: Reason;
  /** For people, in conditions and Events; host and swarm errors name where, never key material. */
  readonly message: string;
  /** The node concerned, when there is one. */
  readonly node?: string;
  /** The original error, for the operator's logs only. */
  readonly cause: unknown;
}

const transient = (reason: Reason) => ({ kind: 'transient' as const, reason });
const terminal = (reason: Reason) => ({ kind: 'terminal' as const, reason });

/** The one place where an error becomes a policy: transient or terminal, and under which reason. */
export function classifyFailure(phase: PhaseName, error: unknown, node?: string): BayFailure {
  const { kind, reason } = verdict(phase, error);
  return { phase, kind, reason, message: messageFor(phase, error), cause: error, ...(node ? { node } : {}) };
}

function messageFor(phase: PhaseName, error: unknown): string {
  if (error instanceof HostError || error instanceof SwarmError || error instanceof SecretConflictError)
    return error.message;
  if (error instanceof RolloutError || error instanceof TlsUnansweredError || error instanceof RetireError)
    return error.message;
  if (error instanceof EncryptedOverlayError) return error.message;
  if (error instanceof TransportError)
    return `the Kubernetes API did not answer ${error.method} ${error.path}; retrying`;
  if (error instanceof ApiError)
    return `the Kubernetes API refused ${error.method} ${error.path}: ${error.code} ${error.reason}`;
  return `unexpected error in the ${phase} phase (${errorName(error)}); see the operator's logs`;
}

function verdict(phase: PhaseName, error: unknown): { kind: FailureKind; reason: Reason } {
  if (error instanceof RolloutError) return terminal(REASONS.rolloutFailed);
  if (error instanceof RetireError) return transient(REASONS.replacementFailed);
  if (error instanceof TlsUnansweredError) return transient(REASONS.tlsUnanswered);
  if (error instanceof SecretConflictError) return terminal(REASONS.secretConflict);
  if (error instanceof NodeConflictError) return terminal(REASONS.nodeNameConflict);
  if (error instanceof BayNetworkError) return BAY_NETWORK_VERDICTS[error.kind];
  if (error instanceof HostApiError && error.status === 400 && error.operation === 'ensure-bay-network')
    return terminal(REASONS.bayNetworkRejected);
  if (error instanceof InvalidNodeSpecError) return terminal(REASONS.nodeConfigRejected);
  if (error instanceof HostApiError && error.status === 400 && isNodeConfiguration(error.operation))
    return terminal(REASONS.nodeConfigRejected);
  if (error instanceof HostOperationError && error.operation === 'start-node')
    return transient(REASONS.nodeStartFailed);
  if (error instanceof HostError) {
    const away =
      error.code === 'unreachable' || error.code === 'timeout' || error.code === 'tls' || error.code === 'unauthorized';
    return transient(away ? REASONS.hostUnreachable : REASONS.nodeNotReady);
  }
  if (error instanceof EncryptedOverlayError) {
    return error.kind === 'unsupported' ? terminal(REASONS.overlayUnsupported) : transient(REASONS.overlayPending);
  }
  if (error instanceof SwarmError && phase === 'overlay') {
    return error.code === 'invalid-state' ? terminal(REASONS.overlayFailed) : transient(REASONS.overlayFailed);
  }
  if (error instanceof SwarmError) return transient(phase === 'swarm' ? REASONS.swarmFailed : REASONS.dockerdFailed);
  if (error instanceof ApiError) return transient(error.code === 409 ? REASONS.apiConflict : REASONS.apiError);
  if (error instanceof TransportError) return transient(REASONS.apiError);
  return transient(phase === 'certificates' ? REASONS.certificatesFailed : REASONS.internalError);
}

/** A full pool (or range) frees up when bays are deleted; a taken name, a full subnet or missing settings need a person. */
const BAY_NETWORK_VERDICTS: Record<BayNetworkError['kind'], { kind: FailureKind; reason: Reason }> = {
  'name-taken': terminal(REASONS.bayNetworkConflict),
  'pool-full': transient(REASONS.subnetPoolFull),
  'subnet-full': terminal(REASONS.baySubnetFull),
  misconfigured: terminal(REASONS.bayNetworkRejected),
};

const isNodeConfiguration = (operation: string): boolean =>
  operation === 'ensure-node' || operation === 'reconfigure-node';

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

/** Thrown to the runtime after status is written: the bay is retried with backoff. */
export class BayRetryError extends Error {
  override readonly name = 'BayRetryError';

  constructor(readonly failures: readonly BayFailure[]) {
    super(failures.map((f) => `${f.phase}: ${f.reason}: ${f.message}`).join('; '));
  }
}

/**
 * A node that served workloads no longer answers marina over TLS (an expired or unreadable certificate,
 * dockerd down): the rollout repairs it by the same drain–restart–check as a rotation, never blindly.
 */
export class TlsUnansweredError extends Error {
  override readonly name = 'TlsUnansweredError';

  constructor(
    readonly node: string,
    readonly address: string,
  ) {
    super(
      `node ${node} does not answer marina over TLS at ${address}; it is repaired by a drained restart with fresh certificates`,
    );
  }
}

/**
 * A node failed its check after a restart in a rollout. The rollout stops there: no other node is
 * restarted until a person looks (and asks again with a new marina.dev/rotate-certificates value).
 */
/**
 * An encrypted overlay the hosts cannot carry: a host's kernel lacks ESP with AES-GCM (unsupported), or
 * what the kernel has is not known yet (a node must run on the host for the aggregate to find out).
 */
export class EncryptedOverlayError extends Error {
  override readonly name = 'EncryptedOverlayError';

  constructor(
    readonly kind: 'unsupported' | 'unknown',
    detail: string,
  ) {
    super(detail);
  }
}

export class RolloutError extends Error {
  override readonly name = 'RolloutError';

  constructor(
    readonly node: string,
    readonly step: 'drain' | 'restart' | 'check' | 'rejoin',
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`rollout stopped at node ${node} (${step}): ${detail}`, options);
  }
}

/** A step of retiring a replaced node failed; it is taken again, with backoff, from where it stopped. */
export class RetireError extends Error {
  override readonly name = 'RetireError';

  constructor(
    readonly node: string,
    readonly step: 'list' | 'drain' | 'demote' | 'delete',
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`retiring node ${node} (${step}): ${detail}`, options);
  }
}
