import {
  HostApiError,
  HostOperationError,
  HostTimeoutError,
  HostUnreachableError,
  type HostError,
  type HostErrorContext,
} from '../errors.js';

/** How an injected host failure shows, one kind per host error class the LXD provider throws. */
export type HostFaultKind = 'unreachable' | 'timeout' | 'operation-failed' | 'api';

export interface HostFaultSpec {
  readonly kind: HostFaultKind;
  /** Only calls to this host; any host when absent. */
  readonly host?: string;
  /** Only this provider operation (`ensure-node`, `start-node`, `observe`, ...). */
  readonly operation?: string;
  /** Only calls concerning this node. */
  readonly node?: string;
  /** For `api`: the HTTP status (default 500). */
  readonly status?: number;
  readonly message?: string;
  /** Calls that fail before the fault is spent. Default 1; Infinity until cleared. */
  readonly times?: number;
  /**
   * `before` (default): the call fails and nothing happens on the host. `after`: the host did the
   * work and the answer is lost, as when a host dies or a connection drops in the middle of a create.
   */
  readonly when?: 'before' | 'after';
}

/** How an injected dockerd failure shows. */
export type DockerFaultKind =
  /** The connection is refused (`ECONNREFUSED`). */
  | 'refused'
  /** The connection is reset (`ECONNRESET`), as when dockerd refuses the client certificate. */
  | 'reset'
  /** No answer: the call ends only when the client gives up (its timeout or abort signal). */
  | 'hang'
  /** dockerd answers with an error status and message. */
  | 'status';

export interface DockerFaultSpec {
  readonly kind: DockerFaultKind;
  /** Only this node address; any when absent. */
  readonly address?: string;
  /** Only this route, as counted: `GET /nodes`, `POST /swarm/join`, ... */
  readonly route?: string;
  /** For `status`: default 500. */
  readonly status?: number;
  readonly message?: string;
  readonly times?: number;
}

/** A fault in force; `clear()` removes it before it is spent. */
export interface FaultHandle {
  /** Calls it will still fail. */
  readonly remaining: number;
  /** Calls it failed so far. */
  readonly fired: number;
  clear(): void;
}

class ActiveFault<S extends { readonly times?: number }> implements FaultHandle {
  fired = 0;
  remaining: number;

  constructor(
    readonly spec: S,
    private readonly book: FaultBook<S>,
  ) {
    this.remaining = spec.times ?? 1;
  }

  clear(): void {
    this.book.remove(this);
  }
}

/** Faults waiting for a matching call; the oldest matching one fires first. */
export class FaultBook<S extends { readonly times?: number }> {
  private faults: ActiveFault<S>[] = [];

  add(spec: S): FaultHandle {
    const fault = new ActiveFault(spec, this);
    if (fault.remaining > 0) this.faults.push(fault);
    return fault;
  }

  /** The fault this call runs into, now spent by one; undefined when none matches. */
  take(matches: (spec: S) => boolean): S | undefined {
    const fault = this.faults.find((candidate) => matches(candidate.spec));
    if (!fault) return undefined;
    fault.fired += 1;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.remove(fault);
    return fault.spec;
  }

  remove(fault: ActiveFault<S>): void {
    this.faults = this.faults.filter((candidate) => candidate !== fault);
  }

  clear(): void {
    this.faults = [];
  }
}

export interface HostCall {
  readonly host: string;
  readonly operation: string;
  readonly node: string | undefined;
  readonly when: 'before' | 'after';
}

export function hostFaultMatches(spec: HostFaultSpec, call: HostCall): boolean {
  return (
    (spec.when ?? 'before') === call.when &&
    (spec.host === undefined || spec.host === call.host) &&
    (spec.operation === undefined || spec.operation === call.operation) &&
    (spec.node === undefined || spec.node === call.node)
  );
}

/** The error the LXD provider would throw for such a failure, naming host, operation and node. */
export function hostFaultError(spec: HostFaultSpec, context: HostErrorContext): HostError {
  switch (spec.kind) {
    case 'unreachable':
      return new HostUnreachableError(context, spec.message ?? 'connect ECONNREFUSED (injected)');
    case 'timeout':
      return new HostTimeoutError(context, 30_000);
    case 'operation-failed':
      return new HostOperationError(context, spec.message ?? 'the operation failed (injected)');
    case 'api':
      return new HostApiError(context, spec.status ?? 500, spec.message ?? 'internal error (injected)');
  }
}

export function dockerFaultMatches(spec: DockerFaultSpec, address: string, route: string): boolean {
  return (spec.address === undefined || spec.address === address) && (spec.route === undefined || spec.route === route);
}
