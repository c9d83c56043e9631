import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { Controller, type ControllerOptions } from './controller.js';
import { EventRecorder } from './events.js';
import { HealthServer, type HealthCheck } from './health-server.js';
import { Informer, type InformerScope } from './informer.js';
import { KubeClient } from './kube-client.js';
import { LeaderElector, type LeaderElectionTiming } from './leader-election.js';
import { createLogger } from './logger.js';
import { RuntimeMetrics } from './metrics.js';
import type { ReflectorTuning } from './reflector.js';
import type { KubeObject, ResourceType } from './resource.js';

export interface LeaderElectionConfig extends LeaderElectionTiming {
  readonly leaseName: string;
  readonly leaseNamespace: string;
  /** Unique per replica; hostname plus a random suffix when absent. */
  readonly identity?: string;
}

export interface ManagerOptions {
  readonly kubeConfig: KubeConfig;
  readonly log?: Logger;
  readonly metrics?: RuntimeMetrics;
  /** Serves /metrics, /healthz and /readyz; no listener when absent. */
  readonly healthServer?: { readonly host?: string; readonly port: number };
  /** Without it this replica always leads (one replica, or tests). */
  readonly leaderElection?: LeaderElectionConfig;
  /** How long a graceful stop waits for in-flight reconciles. */
  readonly drainTimeoutMs?: number;
  /**
   * Called when leadership is lost after the controllers were aborted. The default exits the process
   * with status 1, as controller-runtime does: a replica that may be racing the new leader must go.
   */
  readonly onLeadershipLost?: () => void;
  readonly informerTuning?: ReflectorTuning;
  readonly requestTimeoutMs?: number;
}

export type ManagedControllerOptions<T extends KubeObject> = Omit<ControllerOptions<T>, 'metrics' | 'log'>;

const DEFAULT_DRAIN_TIMEOUT_MS = 30_000;

/**
 * Wires one operator process together: a shared client and informers (started on every replica, so a
 * standby has warm caches), leader election, controllers (started on the leader once their caches
 * synced), the health and metrics listener, and graceful shutdown on SIGTERM/SIGINT (stop taking
 * work, drain, release the lease, exit).
 */
export class Manager {
  readonly identity: string;
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private readonly controllers: Array<Pick<Controller<KubeObject>, 'start' | 'stop' | 'abort'>> = [];
  private readonly elector: LeaderElector | undefined;
  private server: HealthServer | undefined;
  private started = false;
  private leading = false;
  private stopped: Promise<void> | undefined;

  private constructor(
    readonly client: KubeClient,
    readonly log: Logger,
    readonly metrics: RuntimeMetrics,
    private readonly opts: ManagerOptions,
  ) {
    this.identity = opts.leaderElection?.identity ?? `${hostname()}_${randomUUID()}`;
    this.elector = opts.leaderElection && this.createElector(opts.leaderElection);
  }

  static async create(opts: ManagerOptions): Promise<Manager> {
    const log = opts.log ?? createLogger();
    const metrics = opts.metrics ?? new RuntimeMetrics({ processMetrics: true });
    const server = opts.kubeConfig.getCurrentCluster()?.server ?? '';
    const client = await KubeClient.fromKubeConfig(opts.kubeConfig, {
      observe: metrics.restClientObserver(server ? new URL(server).host : ''),
      requestTimeoutMs: opts.requestTimeoutMs,
      userAgent: 'marina-runtime',
    });
    return new Manager(client, log, metrics, opts);
  }

  /** The shared informer of one collection; controllers asking for the same scope share one watch. */
  informer<T extends KubeObject>(resource: ResourceType, scope: InformerScope = {}): Informer<T> {
    const id = JSON.stringify([resource.group, resource.version, resource.plural, scope.namespace, scope.labelSelector, scope.fieldSelector]);
    let informer = this.informers.get(id);
    if (!informer) {
      informer = new Informer<KubeObject>({ client: this.client, resource, log: this.log, tuning: this.opts.informerTuning, ...scope });
      this.informers.set(id, informer);
      if (this.started) informer.start();
    }
    return informer as Informer<T>;
  }

  eventRecorder(reportingController: string): EventRecorder {
    return new EventRecorder({ client: this.client, reportingController, reportingInstance: this.identity, log: this.log });
  }

  addController<T extends KubeObject>(opts: ManagedControllerOptions<T>): Controller<T> {
    const controller = new Controller<T>({ ...opts, metrics: this.metrics, log: this.log });
    this.controllers.push(controller);
    if (this.leading) void controller.start();
    return controller;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** The port of the health listener (useful when it was asked for port 0). */
  get healthPort(): number | undefined {
    return this.server?.port;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.opts.healthServer) {
      this.server = await HealthServer.listen({
        host: this.opts.healthServer.host ?? '0.0.0.0',
        port: this.opts.healthServer.port,
        registry: this.metrics.registry,
        liveness: [this.watchesCheck()],
        readiness: [this.cachesCheck(), this.leaderCheck()],
      });
    }
    for (const informer of this.informers.values()) informer.start();
    if (this.elector) this.elector.start();
    else this.startControllers();
    this.log.info({ identity: this.identity, healthPort: this.healthPort }, 'manager started');
  }

  /** Graceful: stop taking work, drain in-flight reconciles, release the lease, close everything. */
  stop(): Promise<void> {
    this.stopped ??= this.shutDown();
    return this.stopped;
  }

  /** Starts, then runs until SIGTERM or SIGINT and shuts down gracefully. */
  async run(): Promise<void> {
    const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];
    let onSignal: (signal: NodeJS.Signals) => void = () => {};
    const signalled = new Promise<NodeJS.Signals>((resolve) => (onSignal = resolve));
    for (const s of signals) process.once(s, onSignal);
    await this.start();
    const signal = await signalled;
    for (const s of signals) process.off(s, onSignal);
    this.log.info({ signal }, 'shutting down on signal');
    await this.stop();
  }

  private async shutDown(): Promise<void> {
    const drainTimeoutMs = this.opts.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
    this.leading = false;
    await Promise.all(this.controllers.map((c) => c.stop(drainTimeoutMs)));
    await this.elector?.stop();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    await this.server?.close();
    this.client.close();
    this.log.info('manager stopped');
  }

  private createElector(config: LeaderElectionConfig): LeaderElector {
    const setStatus = this.metrics.forLeaderElection(config.leaseName);
    return new LeaderElector({
      ...config,
      client: this.client,
      identity: this.identity,
      log: this.log,
      onStatus: setStatus,
      onStartedLeading: () => this.startControllers(),
      onStoppedLeading: () => this.loseLeadership(),
    });
  }

  private startControllers(): void {
    this.leading = true;
    for (const controller of this.controllers) void controller.start();
  }

  private loseLeadership(): void {
    this.leading = false;
    for (const controller of this.controllers) controller.abort();
    (this.opts.onLeadershipLost ?? exitOnLeadershipLost)();
  }

  private watchesCheck(): HealthCheck {
    return {
      name: 'watches',
      check: () => {
        const stalled = [...this.informers.values()].filter((i) => i.isStalled());
        const detail = stalled.map((i) => `${i.resource.plural} silent for ${Math.round(i.silentForMs / 1000)}s`).join(', ');
        return { ok: stalled.length === 0, detail };
      },
    };
  }

  private cachesCheck(): HealthCheck {
    return {
      name: 'caches',
      check: () => {
        const pending = [...this.informers.values()].filter((i) => !i.hasSynced());
        return { ok: pending.length === 0, detail: `not synced: ${pending.map((i) => i.resource.plural).join(', ')}` };
      },
    };
  }

  private leaderCheck(): HealthCheck {
    return {
      name: 'leader-election',
      check: () => {
        const elector = this.elector;
        if (!elector) return { ok: true };
        return { ok: elector.state === 'leader' || elector.isHealthyStandby, detail: `state ${elector.state}` };
      },
    };
  }
}

function exitOnLeadershipLost(): never {
  process.exit(1);
}
