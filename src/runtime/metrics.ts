import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ResultLabel } from './reconcile.js';
import type { RequestObserver } from './transport.js';
import type { WorkQueueMetrics } from './workqueue.js';

// controller-runtime's buckets, so dashboards written for Go operators read marina the same way.
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1, 1.25, 1.5, 1.75, 2,
  2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
const WORKQUEUE_BUCKETS = Array.from({ length: 12 }, (_, i) => 1e-8 * 10 ** i);
const RESULT_LABELS: readonly ResultLabel[] = ['success', 'error', 'requeue_after'];

export interface ControllerMetrics {
  reconciled(result: ResultLabel, seconds: number): void;
  failed(terminal: boolean): void;
  workerStarted(): void;
  workerFinished(): void;
}

/**
 * The runtime's Prometheus metrics, with controller-runtime's names, on a registry of their own
 * (never prom-client's global one): a test can run several managers in one process.
 */
export class RuntimeMetrics {
  readonly registry: Registry;
  private readonly reconcileTotal: Counter<'controller' | 'result'>;
  private readonly reconcileErrors: Counter<'controller'>;
  private readonly terminalErrors: Counter<'controller'>;
  private readonly reconcileTime: Histogram<'controller'>;
  private readonly maxConcurrent: Gauge<'controller'>;
  private readonly activeWorkers: Gauge<'controller'>;
  private readonly queueDepth: Gauge<'name'>;
  private readonly queueAdds: Counter<'name'>;
  private readonly queueRetries: Counter<'name'>;
  private readonly queueDuration: Histogram<'name'>;
  private readonly workDuration: Histogram<'name'>;
  private readonly leaderStatus: Gauge<'name'>;
  private readonly restRequests: Counter<'code' | 'method' | 'host'>;

  constructor(opts: { registry?: Registry; processMetrics?: boolean } = {}) {
    const registers = [(this.registry = opts.registry ?? new Registry())];
    if (opts.processMetrics) collectDefaultMetrics({ register: this.registry });
    const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> =>
      new Counter({ name, help, labelNames, registers });
    const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> =>
      new Gauge({ name, help, labelNames, registers });
    const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> =>
      new Histogram({ name, help, labelNames, buckets, registers });

    this.reconcileTotal = counter('controller_runtime_reconcile_total', 'Total number of reconciliations per controller', ['controller', 'result']);
    this.reconcileErrors = counter('controller_runtime_reconcile_errors_total', 'Total number of reconciliation errors per controller', ['controller']);
    this.terminalErrors = counter('controller_runtime_terminal_reconcile_errors_total', 'Total number of terminal reconciliation errors per controller', ['controller']);
    this.reconcileTime = histogram('controller_runtime_reconcile_time_seconds', 'Length of time per reconciliation per controller', ['controller'], RECONCILE_BUCKETS);
    this.maxConcurrent = gauge('controller_runtime_max_concurrent_reconciles', 'Maximum number of concurrent reconciles per controller', ['controller']);
    this.activeWorkers = gauge('controller_runtime_active_workers', 'Number of currently used workers per controller', ['controller']);
    this.queueDepth = gauge('workqueue_depth', 'Current depth of workqueue', ['name']);
    this.queueAdds = counter('workqueue_adds_total', 'Total number of adds handled by workqueue', ['name']);
    this.queueRetries = counter('workqueue_retries_total', 'Total number of retries handled by workqueue', ['name']);
    this.queueDuration = histogram('workqueue_queue_duration_seconds', 'How long in seconds an item stays in workqueue before being requested', ['name'], WORKQUEUE_BUCKETS);
    this.workDuration = histogram('workqueue_work_duration_seconds', 'How long in seconds processing an item from workqueue takes', ['name'], WORKQUEUE_BUCKETS);
    this.leaderStatus = gauge('leader_election_master_status', 'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master', ['name']);
    this.restRequests = counter('rest_client_requests_total', 'Number of HTTP requests, partitioned by status code, method, and host', ['code', 'method', 'host']);
  }

  /** The series of one controller, created at 0 so that rates and alerts work before the first event. */
  forController(controller: string, maxConcurrentReconciles: number): ControllerMetrics {
    for (const result of RESULT_LABELS) this.reconcileTotal.inc({ controller, result }, 0);
    this.reconcileErrors.inc({ controller }, 0);
    this.terminalErrors.inc({ controller }, 0);
    this.reconcileTime.zero({ controller });
    this.maxConcurrent.set({ controller }, maxConcurrentReconciles);
    this.activeWorkers.set({ controller }, 0);
    return {
      reconciled: (result, seconds) => {
        this.reconcileTotal.inc({ controller, result });
        this.reconcileTime.observe({ controller }, seconds);
      },
      failed: (terminal) => {
        this.reconcileErrors.inc({ controller });
        if (terminal) this.terminalErrors.inc({ controller });
      },
      workerStarted: () => this.activeWorkers.inc({ controller }),
      workerFinished: () => this.activeWorkers.dec({ controller }),
    };
  }

  forWorkQueue(name: string): WorkQueueMetrics {
    this.queueDepth.set({ name }, 0);
    this.queueAdds.inc({ name }, 0);
    this.queueRetries.inc({ name }, 0);
    this.queueDuration.zero({ name });
    this.workDuration.zero({ name });
    return {
      depth: (n) => this.queueDepth.set({ name }, n),
      added: () => this.queueAdds.inc({ name }),
      retried: () => this.queueRetries.inc({ name }),
      queued: (seconds) => this.queueDuration.observe({ name }, seconds),
      worked: (seconds) => this.workDuration.observe({ name }, seconds),
    };
  }

  forLeaderElection(name: string): (isLeader: boolean) => void {
    this.leaderStatus.set({ name }, 0);
    return (isLeader) => this.leaderStatus.set({ name }, isLeader ? 1 : 0);
  }

  restClientObserver(host: string): RequestObserver {
    return (method, code) => this.restRequests.inc({ code, method, host });
  }
}
