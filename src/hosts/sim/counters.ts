/** Calls made to one host's API, by operation (`ensure-node`, `observe`, ...). */
export interface HostCallCounts {
  readonly total: number;
  readonly operations: Readonly<Record<string, number>>;
}

/** Every call the world answered since it was opened (or the counters were reset). */
export interface CallCounts {
  /** Host API calls and dockerd calls together. */
  readonly total: number;
  readonly hosts: Readonly<Record<string, HostCallCounts>>;
  /** dockerd calls, by `METHOD /route` (`GET /nodes`, `POST /nodes/{id}/update`, ...). */
  readonly docker: HostCallCounts;
}

/**
 * Counts what reaches the simulated hosts and dockerds, whatever the outcome (a refused or failed
 * call counts too): what a benchmark compares against the number of hosts and bays.
 */
export class CallCounters {
  private readonly hosts = new Map<string, Map<string, number>>();
  private readonly dockerCalls = new Map<string, number>();

  countHost(host: string, operation: string): void {
    let operations = this.hosts.get(host);
    if (!operations) {
      operations = new Map();
      this.hosts.set(host, operations);
    }
    increment(operations, operation);
  }

  countDocker(route: string): void {
    increment(this.dockerCalls, route);
  }

  /** Calls to one host (and one operation of it), or to every host. */
  hostCalls(host?: string, operation?: string): number {
    const hosts = host === undefined ? [...this.hosts.values()] : [this.hosts.get(host) ?? new Map<string, number>()];
    return hosts.reduce(
      (sum, operations) => sum + (operation === undefined ? total(operations) : (operations.get(operation) ?? 0)),
      0,
    );
  }

  dockerCallCount(route?: string): number {
    return route === undefined ? total(this.dockerCalls) : (this.dockerCalls.get(route) ?? 0);
  }

  snapshot(): CallCounts {
    const hosts: Record<string, HostCallCounts> = {};
    for (const [host, operations] of this.hosts) hosts[host] = counts(operations);
    const docker = counts(this.dockerCalls);
    return { total: this.hostCalls() + docker.total, hosts, docker };
  }

  reset(): void {
    this.hosts.clear();
    this.dockerCalls.clear();
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function total(map: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const value of map.values()) sum += value;
  return sum;
}

function counts(map: ReadonlyMap<string, number>): HostCallCounts {
  return { total: total(map), operations: Object.fromEntries(map) };
}
