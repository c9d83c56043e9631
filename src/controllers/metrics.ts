import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { Bay } from '../api/types.generated.js';

/** Stages of bringing a node up, in order; each is timed on its own. */
export type ProvisioningStage = 'create' | 'seed' | 'start' | 'address' | 'dockerd' | 'swarm_join';

export interface HostCallObserver {
  (host: string, operation: string, outcome: string, seconds: number): void;
}

const PROVISIONING_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 8, 13, 21, 34, 60, 120];
const HOST_CALL_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * marina's own metrics, next to the runtime's controller_runtime_* and workqueue_* series. What can
 * be read from the bays' status (phases, node states, certificate expiry, swarm members) is computed
 * when Prometheus scrapes, from the informer's cache: no bookkeeping to drift from the truth.
 */
export class MarinaMetrics {
  private readonly provisioning: Histogram<'stage'>;
  private readonly hostCalls: Counter<'host' | 'operation' | 'outcome'>;
  private readonly hostCallSeconds: Histogram<'host' | 'operation'>;
  private readonly probes: Counter<'aggregate' | 'host' | 'result'>;
  private readonly hostReady: Gauge<'aggregate' | 'host'>;
  private readonly errors: Counter<'controller' | 'kind'>;
  private readonly scaleUps: Counter<'namespace' | 'bay'>;

  constructor(registry: Registry, bays: () => readonly Bay[]) {
    const registers = [registry];
    this.provisioning = new Histogram({
      name: 'marina_node_provisioning_seconds',
      help:
        'Time to bring a new node through one stage: create, seed (TLS files written before first boot), ' +
        'start, address, dockerd (TLS up), swarm_join',
      labelNames: ['stage'],
      buckets: PROVISIONING_BUCKETS,
      registers,
    });
    this.hostCalls = new Counter({
      name: 'marina_host_calls_total',
      help: 'Calls to host providers (one call may be several LXD/Incus API requests), by host, operation and outcome (ok or an error code)',
      labelNames: ['host', 'operation', 'outcome'],
      registers,
    });
    this.hostCallSeconds = new Histogram({
      name: 'marina_host_call_duration_seconds',
      help: 'Duration of calls to host providers',
      labelNames: ['host', 'operation'],
      buckets: HOST_CALL_BUCKETS,
      registers,
    });
    this.probes = new Counter({
      name: 'marina_host_probes_total',
      help: 'Host probes by aggregate, host and result (Ready, or the reason the host is not ready)',
      labelNames: ['aggregate', 'host', 'result'],
      registers,
    });
    this.hostReady = new Gauge({
      name: 'marina_host_ready',
      help: 'Whether a host of an aggregate was ready at its last probe (1) or not (0)',
      labelNames: ['aggregate', 'host'],
      registers,
    });
    this.errors = new Counter({
      name: 'marina_reconcile_errors_total',
      help: 'Reconcile failures by controller and kind (the error policy\'s reason), transient and terminal',
      labelNames: ['controller', 'kind'],
      registers,
    });
    this.scaleUps = new Counter({
      name: 'marina_autoscale_scale_ups_total',
      help: 'Times autoscaling raised a bay\'s node target',
      labelNames: ['namespace', 'bay'],
      registers,
    });
    registerBayGauges(registers, bays);
  }

  scaledUp(bay: Bay): void {
    this.scaleUps.inc(bayLabels(bay));
  }

  provisioned(stage: ProvisioningStage, seconds: number): void {
    this.provisioning.observe({ stage }, seconds);
  }

  readonly hostCall: HostCallObserver = (host, operation, outcome, seconds) => {
    this.hostCalls.inc({ host, operation, outcome });
    this.hostCallSeconds.observe({ host, operation }, seconds);
  };

  probed(aggregate: string, host: string, result: string): void {
    this.probes.inc({ aggregate, host, result });
    this.hostReady.set({ aggregate, host }, result === 'Ready' ? 1 : 0);
  }

  forgetHost(aggregate: string, host: string): void {
    this.hostReady.remove({ aggregate, host });
  }

  reconcileError(controller: string, kind: string): void {
    this.errors.inc({ controller, kind });
  }
}

function registerBayGauges(registers: Registry[], bays: () => readonly Bay[]): void {
  new Gauge({
    name: 'marina_bays',
    help: 'Bays by phase',
    labelNames: ['phase'],
    registers,
    collect() {
      this.reset();
      for (const bay of bays()) this.inc({ phase: bay.status?.phase ?? 'Pending' });
    },
  });
  new Gauge({
    name: 'marina_nodes',
    help: 'Bay nodes by state, as the bays\' status reports them',
    labelNames: ['state'],
    registers,
    collect() {
      this.reset();
      for (const bay of bays()) for (const node of bay.status?.nodes ?? []) this.inc({ state: node.state ?? 'Pending' });
    },
  });
  new Gauge({
    name: 'marina_bay_certificate_expiry_timestamp_seconds',
    help: 'The earliest expiry among a bay\'s CA and leaf certificates, as a Unix time',
    labelNames: ['namespace', 'bay'],
    registers,
    collect() {
      this.reset();
      for (const bay of bays()) {
        const earliest = earliestExpiry(bay);
        if (earliest !== undefined) this.set(bayLabels(bay), earliest / 1000);
      }
    },
  });
  new Gauge({
    name: 'marina_bay_reserved_percent',
    help: 'Reserved CPU and memory of an autoscaled bay\'s tasks, in percent of its capacity',
    labelNames: ['namespace', 'bay', 'resource'],
    registers,
    collect() {
      this.reset();
      for (const bay of bays()) {
        const usage = bay.status?.usage;
        if (usage?.cpuPercent !== undefined) this.set({ ...bayLabels(bay), resource: 'cpu' }, usage.cpuPercent);
        if (usage?.memoryPercent !== undefined) this.set({ ...bayLabels(bay), resource: 'memory' }, usage.memoryPercent);
      }
    },
  });
  new Gauge({
    name: 'marina_bay_swarm_members',
    help: 'Ready swarm members of a bay, by role',
    labelNames: ['namespace', 'bay', 'role'],
    registers,
    collect() {
      this.reset();
      for (const bay of bays()) {
        for (const role of ['manager', 'worker'] as const) {
          const ready = (bay.status?.nodes ?? []).filter((n) => n.role === role && n.ready).length;
          this.set({ ...bayLabels(bay), role }, ready);
        }
      }
    },
  });
}

const bayLabels = (bay: Bay): { namespace: string; bay: string } => ({ namespace: bay.metadata.namespace ?? '', bay: bay.metadata.name ?? '' });

export function earliestExpiry(bay: Bay): number | undefined {
  const c = bay.status?.certificates;
  const times = [c?.caNotAfter, c?.clientNotAfter, c?.operatorNotAfter, c?.earliestNodeNotAfter].flatMap((t) => (t ? [Date.parse(t)] : []));
  return times.length > 0 ? Math.min(...times) : undefined;
}
