import type { Logger } from 'pino';
import { isConflict, isNotFound } from './errors.js';
import { jsonEqual } from './json.js';
import type { KubeClient } from './kube-client.js';
import { LEASE_TYPE, claimLease, releasedLease, type Lease, type LeaseSpec } from './lease.js';
import { sleep } from './sleep.js';

export interface LeaderElectionTiming {
  /** How long a lease is valid after its last renewal; standbys wait this long after a holder goes silent. */
  readonly leaseDurationMs?: number;
  /** A leader that cannot renew for this long gives up (must be shorter than the lease duration). */
  readonly renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. */
  readonly retryPeriodMs?: number;
}

export interface LeaderElectorOptions extends LeaderElectionTiming {
  readonly client: KubeClient;
  readonly leaseName: string;
  readonly leaseNamespace: string;
  readonly identity: string;
  readonly log: Logger;
  readonly onStartedLeading: () => void;
  /** Leadership was lost (not released): another replica may be leading already. */
  readonly onStoppedLeading: () => void;
  readonly onStatus?: (isLeader: boolean) => void;
}

export type ElectorState = 'idle' | 'candidate' | 'leader' | 'lost' | 'stopped';

// client-go's defaults.
const DEFAULT_LEASE_DURATION_MS = 15_000;
const DEFAULT_RENEW_DEADLINE_MS = 10_000;
const DEFAULT_RETRY_PERIOD_MS = 2_000;
const RELEASE_TIMEOUT_MS = 5_000;

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection: candidates poll
 * the lease and take it once it expired; the leader renews it with optimistic concurrency (the PUT
 * carries the resourceVersion it read, so two candidates cannot both win); a leader that misses its
 * renew deadline reports the loss; a clean stop releases the lease.
 */
export class LeaderElector {
  private currentState: ElectorState = 'idle';
  private lease: Lease | undefined;
  private observedSpec: LeaseSpec | undefined;
  private observedAt = 0;
  private reportedHolder: string | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.leaseDurationMs = opts.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    if (this.renewDeadlineMs >= this.leaseDurationMs) throw new Error('the renew deadline must be shorter than the lease duration');
  }

  get state(): ElectorState {
    return this.currentState;
  }

  /** A candidate that has read the lease at least once: the API works, and it is ready to take over. */
  get isHealthyStandby(): boolean {
    return this.currentState === 'candidate' && this.observedSpec !== undefined;
  }

  start(): void {
    this.currentState = 'candidate';
    this.loop ??= this.run();
  }

  /** Stops competing; a leader releases the lease so that a standby takes over without waiting. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
    if (this.currentState === 'leader') await this.release();
    this.setState('stopped');
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped && !(await this.tryAcquireOrRenew(this.bounded(this.retryPeriodMs * 2)))) {
      await sleep(this.retryPeriodMs * (1 + Math.random() * 0.2), this.stopping.signal);
    }
    if (this.stopped) return;
    this.setState('leader');
    this.opts.log.info({ lease: this.opts.leaseName }, 'became leader');
    this.opts.onStartedLeading();
    while (!this.stopped) {
      const renewed = await this.renewWithinDeadline();
      if (this.stopped) return;
      if (!renewed) return this.lose();
      await sleep(this.retryPeriodMs, this.stopping.signal);
    }
  }

  private async renewWithinDeadline(): Promise<boolean> {
    const deadline = Date.now() + this.renewDeadlineMs;
    while (!this.stopped && Date.now() < deadline) {
      if (await this.tryAcquireOrRenew(this.bounded(deadline - Date.now()))) return true;
      await sleep(Math.min(this.retryPeriodMs, deadline - Date.now()), this.stopping.signal);
    }
    return false;
  }

  /** A signal for one lease request: it ends at the timeout or when the elector stops. */
  private bounded(timeoutMs: number): AbortSignal {
    return AbortSignal.any([AbortSignal.timeout(Math.max(1, timeoutMs)), this.stopping.signal]);
  }

  private lose(): void {
    this.setState('lost');
    this.opts.log.error({ lease: this.opts.leaseName }, 'leadership lost: the lease could not be renewed in time');
    this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<boolean> {
    try {
      // A leader renews from the lease it last wrote; only a conflict makes it read the lease again.
      const current = this.currentState === 'leader' && this.lease ? this.lease : await this.read(signal);
      this.observe(current?.spec);
      const spec = claimLease(current?.spec, {
        identity: this.opts.identity,
        leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
        now: Date.now(),
        observedAt: this.observedAt,
      });
      if (!spec) {
        this.reportHolder(current?.spec?.holderIdentity);
        return false;
      }
      this.lease = await this.write(current, spec, signal);
      this.observe(spec);
      return true;
    } catch (err) {
      this.lease = undefined;
      if (isConflict(err)) this.opts.log.debug({ lease: this.opts.leaseName }, 'lease changed under us');
      else this.opts.log.warn({ err, lease: this.opts.leaseName }, 'could not acquire or renew the lease');
      return false;
    }
  }

  private async read(signal: AbortSignal): Promise<Lease | undefined> {
    const ref = { namespace: this.opts.leaseNamespace, name: this.opts.leaseName };
    try {
      return await this.opts.client.get<Lease>(LEASE_TYPE, ref, signal);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  private write(current: Lease | undefined, spec: LeaseSpec, signal: AbortSignal): Promise<Lease> {
    if (!current) {
      const metadata = { namespace: this.opts.leaseNamespace, name: this.opts.leaseName };
      return this.opts.client.create<Lease>(LEASE_TYPE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata, spec }, signal);
    }
    return this.opts.client.replace<Lease>(LEASE_TYPE, { ...current, spec }, { signal });
  }

  private reportHolder(holder: string | undefined): void {
    if (holder === this.reportedHolder) return;
    this.reportedHolder = holder;
    this.opts.log.info({ lease: this.opts.leaseName, holder }, 'lease held by another replica; standing by');
  }

  /** Remembers when the record last changed, on the local clock: expiry is measured from then. */
  private observe(spec: LeaseSpec | undefined): void {
    const record = spec ?? {};
    if (this.observedSpec !== undefined && jsonEqual(this.observedSpec, record)) return;
    this.observedSpec = record;
    this.observedAt = Date.now();
  }

  private async release(): Promise<void> {
    if (!this.lease?.spec) return;
    try {
      await this.write(this.lease, releasedLease(this.lease.spec, Date.now()), AbortSignal.timeout(RELEASE_TIMEOUT_MS));
      this.opts.log.info({ lease: this.opts.leaseName }, 'released the lease');
    } catch (err) {
      this.opts.log.warn({ err, lease: this.opts.leaseName }, 'could not release the lease; it will expire');
    }
  }

  private setState(state: ElectorState): void {
    this.currentState = state;
    this.opts.onStatus?.(state === 'leader');
  }
}
