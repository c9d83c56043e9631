/**
 * Errors of the swarm layer. Each names the dockerd it talked to (address:port), what marina was
 * doing and, when there is one, the swarm node concerned, so a condition message says where things
 * went wrong. Key material never reaches a message: the client keeps its key inside a TLS context
 * (see client.ts), and details come from dockerd's JSON answers or Node's error codes.
 */

export type SwarmErrorCode =
  /** No TCP connection, or it was reset (dockerd down or restarting, or it refused our certificate). */
  | 'unreachable'
  /** The TLS session could not be trusted: server certificate from another CA, wrong SAN, expired. */
  | 'tls'
  | 'timeout'
  /** dockerd answered with an error status. */
  | 'api'
  /** The call needs a manager and this node is not one (or not a reachable one). */
  | 'not-manager'
  | 'not-in-swarm'
  /** The node is a member of a different swarm than the one it should join. */
  | 'other-swarm'
  /** The object changed between read and update ("update out of sequence") more often than retried. */
  | 'conflict'
  /** The change would cost the swarm its raft quorum, or leave it without a manager. */
  | 'quorum'
  /** The node is in a state the operation cannot continue from (pending join, locked, error). */
  | 'invalid-state'
  /** Configuring dockerd inside the node failed (a command exited non-zero). */
  | 'node-setup';

export interface SwarmErrorContext {
  /** The dockerd endpoint, `10.213.71.10:2376`. */
  readonly address: string;
  /** What marina was doing, e.g. `swarm-init`, `node-update`. */
  readonly operation: string;
  /** The swarm node concerned, when there is one. */
  readonly nodeId?: string;
}

export class SwarmError extends Error {
  readonly code: SwarmErrorCode;
  readonly address: string;
  readonly operation: string;
  readonly nodeId: string | undefined;
  /** dockerd's HTTP status, for code 'api' and the codes derived from an answer. */
  readonly statusCode: number | undefined;

  constructor(
    code: SwarmErrorCode,
    context: SwarmErrorContext,
    detail: string,
    options?: { readonly cause?: unknown; readonly statusCode?: number },
  ) {
    super(`${describeContext(context)}: ${detail}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.address = context.address;
    this.operation = context.operation;
    this.nodeId = context.nodeId;
    this.statusCode = options?.statusCode;
  }

  /** Worth retrying later as is: the daemon may come back, the object may settle. */
  get transient(): boolean {
    return this.code === 'unreachable' || this.code === 'timeout' || this.code === 'conflict' || this.code === 'invalid-state';
  }
}

function describeContext({ address, operation, nodeId }: SwarmErrorContext): string {
  return nodeId === undefined ? `${operation} on dockerd ${address}` : `${operation} of swarm node ${nodeId} via dockerd ${address}`;
}
