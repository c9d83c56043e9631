/**
 * Errors of the host layer. Every error names the host, the operation and (when there is one) the
 * node, so a condition message or a log line says where things went wrong without a stack trace.
 * `code` lets callers branch without `instanceof` chains; messages never carry key material.
 */

export type HostErrorCode =
  | 'unreachable'
  | 'timeout'
  | 'tls'
  | 'unauthorized'
  | 'api'
  | 'not-found'
  | 'conflict'
  | 'busy'
  | 'operation-failed'
  | 'invalid-spec';

export interface HostErrorContext {
  /** The host's name as the HostAggregate knows it (or its endpoint when it has no name). */
  readonly host: string;
  /** What marina was doing, e.g. `create-node`, `push-file`, `exec`. */
  readonly operation: string;
  /** The node (LXD instance) concerned, when there is one. */
  readonly instance?: string;
}

export class HostError extends Error {
  readonly code: HostErrorCode;
  readonly host: string;
  readonly operation: string;
  readonly instance: string | undefined;

  constructor(code: HostErrorCode, context: HostErrorContext, detail: string, options?: { cause?: unknown }) {
    super(`${describeContext(context)}: ${detail}`, options);
    this.name = new.target.name;
    this.code = code;
    this.host = context.host;
    this.operation = context.operation;
    this.instance = context.instance;
  }
}

function describeContext({ host, operation, instance }: HostErrorContext): string {
  return instance === undefined ? `${operation} on host ${host}` : `${operation} of node ${instance} on host ${host}`;
}

/** The host did not answer: socket missing, connection refused, name not resolved, connection reset. */
export class HostUnreachableError extends HostError {
  constructor(context: HostErrorContext, detail: string, options?: { cause?: unknown }) {
    super('unreachable', context, detail, options);
  }
}

/** A call or an operation did not finish within its deadline. The host may still complete it. */
export class HostTimeoutError extends HostError {
  readonly timeoutMs: number;
  constructor(context: HostErrorContext, timeoutMs: number, options?: { cause?: unknown }) {
    super('timeout', context, `no answer within ${timeoutMs} ms`, options);
    this.timeoutMs = timeoutMs;
  }
}

/** The TLS session could not be trusted: wrong pinned server certificate or failed handshake. */
export class HostTlsError extends HostError {
  constructor(context: HostErrorContext, detail: string, options?: { cause?: unknown }) {
    super('tls', context, detail, options);
  }
}

/** The host does not trust marina's client certificate (or the socket user lacks rights). */
export class HostAuthError extends HostError {
  constructor(context: HostErrorContext, detail: string, options?: { cause?: unknown }) {
    super('unauthorized', context, detail, options);
  }
}

/** The API answered with an error envelope; `status` is its HTTP-like error code. */
export class HostApiError extends HostError {
  readonly status: number;
  constructor(context: HostErrorContext, status: number, detail: string, options?: { cause?: unknown }) {
    super('api', context, `${detail} (HTTP ${status})`, options);
    this.status = status;
  }
}

export class NodeNotFoundError extends HostError {
  constructor(context: HostErrorContext) {
    super('not-found', context, 'no such node');
  }
}

/** A node name is taken by an instance that belongs to someone else (another bay or no bay). */
export class NodeConflictError extends HostError {
  constructor(context: HostErrorContext, detail: string) {
    super('conflict', context, detail);
  }
}

/** A bay's network cannot be had: its name is taken by something else, or the pool has no free subnet. */
export class BayNetworkError extends HostError {
  constructor(
    context: HostErrorContext,
    readonly kind: 'name-taken' | 'pool-full' | 'subnet-full' | 'misconfigured',
    detail: string,
  ) {
    super('conflict', context, detail);
  }
}

/** The node must be stopped for what was asked (reconfiguring it), and it runs. */
export class NodeBusyError extends HostError {
  constructor(context: HostErrorContext, detail: string) {
    super('busy', context, detail);
  }
}

/** An asynchronous host operation (create, start, delete, exec, image import) ended in failure. */
export class HostOperationError extends HostError {
  constructor(context: HostErrorContext, detail: string, options?: { cause?: unknown }) {
    super('operation-failed', context, detail, options);
  }
}

/** A NodeSpec that no host could satisfy as written (bad name, zero CPUs, ...). Not worth retrying. */
export class InvalidNodeSpecError extends HostError {
  constructor(context: HostErrorContext, detail: string) {
    super('invalid-spec', context, detail);
  }
}

export function isHostError(error: unknown): error is HostError {
  return error instanceof HostError;
}

/** The node's instance does not exist (any more). */
export function isNodeGone(error: unknown): boolean {
  return isHostError(error) && error.code === 'not-found';
}

/** Errors that a later retry may cure (the reconciler requeues them with backoff). */
export function isTransientHostError(error: unknown): boolean {
  return isHostError(error) && (error.code === 'unreachable' || error.code === 'timeout');
}
