/**
 * Typed errors of the runtime. Each carries the context needed to act on it without parsing messages:
 * the controller decides retry / terminal / quiet from the type and the HTTP code alone.
 */

/** The Kubernetes `Status` object the apiserver returns with a failed request or a watch ERROR event. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: unknown;
}

/** The apiserver answered, and the answer was an error (4xx/5xx or a watch ERROR event). */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly method: string,
    readonly path: string,
    readonly details?: unknown,
  ) {
    super(`${method} ${path}: ${code} ${reason}: ${message}`);
  }

  static fromStatus(status: KubeStatus, method: string, path: string, fallbackCode = 500): ApiError {
    const code = status.code ?? fallbackCode;
    return new ApiError(code, status.reason ?? 'Unknown', status.message ?? '', method, path, status.details);
  }
}

/** The request never got an answer: connection refused or reset, TLS failure, timeout. */
export class TransportError extends Error {
  override readonly name = 'TransportError';

  constructor(
    readonly method: string,
    readonly path: string,
    override readonly cause: unknown,
  ) {
    super(`${method} ${path}: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

/** A watch delivered nothing, not even a bookmark, for longer than the watchdog allows. */
export class WatchStalledError extends Error {
  override readonly name = 'WatchStalledError';

  constructor(
    readonly path: string,
    readonly silentForMs: number,
  ) {
    super(`watch ${path} delivered nothing for ${silentForMs} ms`);
  }
}

/** A watch ended early: the connection was cut mid-stream, or the apiserver closed it at once, empty. */
export class WatchClosedError extends Error {
  override readonly name = 'WatchClosedError';

  constructor(readonly path: string) {
    super(`watch ${path} closed early`);
  }
}

/**
 * Thrown by a reconciler for a failure that retrying cannot fix (an invalid spec, a missing
 * prerequisite only a human can provide). The controller records it and does not retry; the next
 * change to the object triggers a fresh reconcile.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';

  constructor(
    /** A CamelCase reason, used for the Event and condition the controller records. */
    readonly reason: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const apiCode = (err: unknown): number | undefined => (err instanceof ApiError ? err.code : undefined);

export const isNotFound = (err: unknown): boolean => apiCode(err) === 404;
export const isConflict = (err: unknown): boolean => apiCode(err) === 409;
/** 410 Gone: the resourceVersion is older than what the apiserver still keeps (compacted or expired). */
export const isGone = (err: unknown): boolean =>
  apiCode(err) === 410 || (err instanceof ApiError && (err.reason === 'Expired' || err.reason === 'Gone'));
