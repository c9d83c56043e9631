import { request } from 'node:http';
import { waitFor } from '../processes.js';
import type { DockerCli } from './docker-cli.js';
import { loadWorkloadImage, WORKLOAD_IMAGE } from './workload-image.js';

/** What a run of probes (or one phase of it, see `ServiceProber.mark`) achieved. */
export interface ProbeReport {
  /** Probes started; a probe still in flight counts here but in neither `ok` nor `failed`. */
  sent: number;
  ok: number;
  failed: number;
  /** Probes started per second over the window, to show the load was really applied. */
  perSecond: number;
  /** Successful answers per backend; every backend is listed, so one that never answered shows 0. */
  byBackend: Record<string, number>;
  /** The first failed probes (at most 20), each with one error per backend it tried. */
  failures: { at: Date; errors: string[] }[];
  /** Milliseconds from sending a probe to its answer, over the successful probes (0 when there were none). */
  latencyMs: { p50: number; p99: number; max: number };
}

export interface ProberOptions {
  /** IPv4 addresses of the nodes; only those running a replica answer, as the port is published in host mode. */
  backends: readonly string[];
  port: number;
  path?: string;
  ratePerSecond?: number;
  attemptTimeoutMs?: number;
}

/** A point in a probing run; `since(mark)` reports only the probes started after it. */
export interface ProbeMark {
  readonly index: number;
  readonly at: number;
}

interface Probe {
  readonly startedAt: number;
  outcome?: { backend: string; ms: number } | { errors: string[] };
}

/** The value below which `fraction` of the sorted values lie (nearest rank). */
function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)]!;
}

const MAX_FAILURES = 20;

/**
 * Sends HTTP probes at a steady rate, like a client-side load balancer: each probe tries the backends in
 * round-robin order and moves on to the next one on a connection error, a timeout or a non-2xx answer. A probe
 * fails only when every backend was tried once and none answered, which is what a client of the service sees.
 */
export class ServiceProber {
  private backends: readonly string[];
  /** Every backend ever probed, for the report. */
  private readonly known = new Set<string>();
  private readonly port: number;
  private readonly path: string;
  private readonly intervalMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly probes: Probe[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private startMark: ProbeMark | undefined;
  private stoppedAt: number | undefined;
  private nextBackend = 0;

  constructor(opts: ProberOptions) {
    if (opts.backends.length === 0) throw new Error('ServiceProber needs at least one backend');
    this.backends = [...opts.backends];
    for (const b of this.backends) this.known.add(b);
    this.port = opts.port;
    this.path = opts.path ?? '/';
    this.intervalMs = 1000 / (opts.ratePerSecond ?? 20);
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 1000;
  }

  start(): void {
    if (this.startMark) throw new Error('ServiceProber was already started');
    this.startMark = this.mark();
    // Each probe is due at a fixed offset from the start rather than a fixed delay after the previous timer:
    // a busy event loop then delays probes but does not lower the rate the report claims to have applied.
    let due = this.startMark.at;
    const tick = (): void => {
      const now = Date.now();
      while (due <= now) {
        this.fire();
        due += this.intervalMs;
      }
      this.timer = setTimeout(tick, due - now);
    };
    tick();
  }

  /** Stops sending and waits for the probes in flight, so that the report accounts for every probe sent. */
  async stop(): Promise<ProbeReport> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.stoppedAt ??= Date.now();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
    return this.report();
  }

  /**
   * Replaces the backends, as a load balancer follows service discovery: nodes that joined are probed
   * from the next probe on, nodes that left no more.
   */
  setBackends(backends: readonly string[]): void {
    if (backends.length === 0) return;
    this.backends = [...backends];
    for (const b of backends) this.known.add(b);
  }

  /** Everything since `start()`. */
  report(): ProbeReport {
    return this.since(this.startMark ?? this.mark());
  }

  mark(): ProbeMark {
    return { index: this.probes.length, at: Date.now() };
  }

  since(mark: ProbeMark): ProbeReport {
    const probes = this.probes.slice(mark.index);
    const byBackend: Record<string, number> = Object.fromEntries([...this.known].map((b) => [b, 0]));
    const failures: ProbeReport['failures'] = [];
    let ok = 0;
    let failed = 0;
    const latencies: number[] = [];
    for (const probe of probes) {
      if (!probe.outcome) continue;
      if ('backend' in probe.outcome) {
        ok++;
        latencies.push(probe.outcome.ms);
        byBackend[probe.outcome.backend] = (byBackend[probe.outcome.backend] ?? 0) + 1;
      } else {
        failed++;
        if (failures.length < MAX_FAILURES) {
          failures.push({ at: new Date(probe.startedAt), errors: probe.outcome.errors });
        }
      }
    }
    const seconds = ((this.stoppedAt ?? Date.now()) - mark.at) / 1000;
    const perSecond = seconds > 0 ? probes.length / seconds : 0;
    latencies.sort((a, b) => a - b);
    const latencyMs = {
      p50: percentile(latencies, 0.5),
      p99: percentile(latencies, 0.99),
      max: latencies.at(-1) ?? 0,
    };
    return { sent: probes.length, ok, failed, perSecond, byBackend, failures, latencyMs };
  }

  private fire(): void {
    const probe: Probe = { startedAt: Date.now() };
    this.probes.push(probe);
    // Successive probes start at successive backends, so the load is spread as a round-robin client spreads it.
    const first = this.nextBackend % this.backends.length;
    this.nextBackend = (first + 1) % this.backends.length;
    const done = this.runProbe(probe, this.backends, first).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  private async runProbe(probe: Probe, backends: readonly string[], first: number): Promise<void> {
    const errors: string[] = [];
    for (let i = 0; i < backends.length; i++) {
      const backend = backends[(first + i) % backends.length]!;
      try {
        await httpGet(backend, this.port, this.path, this.attemptTimeoutMs);
        probe.outcome = { backend, ms: Date.now() - probe.startedAt };
        return;
      } catch (err) {
        errors.push(`${backend}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    probe.outcome = { errors };
  }
}

/**
 * One GET that resolves on a 2xx answer with its body read to the end, and rejects otherwise. `agent: false` gives
 * every request its own connection (closed after the answer), so no kept-alive socket outlives a dockerd restart
 * and hides or fakes an outage.
 */
function httpGet(host: string, port: number, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (err: Error): void => {
      clearTimeout(timer);
      reject(err);
    };
    const req = request({ host, port, path, method: 'GET', agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.once('error', fail);
      res.once('end', () => {
        clearTimeout(timer);
        if (status >= 200 && status < 300) resolve(body);
        else reject(new Error(`HTTP ${status}`));
      });
    });
    // The whole exchange (connect, answer, body) must fit in the timeout, not only each idle gap of the socket.
    const timer = setTimeout(() => {
      reject(new Error(`no answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.once('error', fail);
    req.end();
  });
}

/** Waits until `replicas` tasks of the service are running (desired and current state both "running"). */
export async function waitForServiceRunning(
  docker: DockerCli,
  name: string,
  replicas: number,
  timeoutMs = 120_000,
): Promise<void> {
  await waitFor(
    `${replicas} running tasks of service ${name}`,
    async () => {
      const ps = await docker([
        'service', 'ps', name, '--filter', 'desired-state=running', '--format', '{{.CurrentState}}',
      ]);
      if (ps.code !== 0) throw new Error(`docker service ps ${name} failed: ${ps.stderr}`);
      const states = ps.stdout.split('\n').filter((line) => line.trim() !== '');
      return states.length === replicas && states.every((s) => s.startsWith('Running')) ? true : undefined;
    },
    timeoutMs,
    1_000,
  );
}

/**
 * Runs a small web service on the bay that the prober can reach without the routing mesh (no ip_vs in this kernel):
 * the port is published in host mode, so each replica answers on the address of the node it runs on. Returns once
 * the tasks run and `replicas` of the node addresses answer with HTTP 200.
 */
export async function deployProbedService(
  docker: DockerCli,
  opts: { name: string; port: number; replicas?: number; nodeAddresses: readonly string[] },
): Promise<void> {
  const replicas = opts.replicas ?? 2;
  // The image comes from no registry, so every node the scheduler may pick must have it already.
  await Promise.all(opts.nodeAddresses.map((address) => loadWorkloadImage(docker, address)));
  // The image has no mkdir applet, but busybox itself has; the page names the container so answers can be told apart.
  const script = [
    'busybox mkdir -p /www',
    'echo "<html>served by $(hostname)</html>" > /www/index.html',
    'exec httpd -f -p 80 -h /www',
  ].join(' && ');
  const created = await docker([
    'service', 'create', '--detach', '--name', opts.name, '--replicas', String(replicas),
    '--publish', `mode=host,target=80,published=${opts.port}`,
    // busybox httpd, as PID 1 without a SIGTERM handler, ignores SIGTERM: a short grace keeps drains quick.
    '--stop-grace-period', '2s',
    WORKLOAD_IMAGE, 'sh', '-c', script,
  ]);
  if (created.code !== 0) throw new Error(`docker service create ${opts.name} failed: ${created.stderr}`);
  const deadline = Date.now() + 120_000;
  await waitForServiceRunning(docker, opts.name, replicas, deadline - Date.now());
  // A host-mode port never holds two replicas on one node, so `replicas` answering addresses means all of them serve.
  await waitFor(
    `${replicas} nodes answering on port ${opts.port}`,
    async () => {
      const answers = await Promise.allSettled(
        opts.nodeAddresses.map((address) => httpGet(address, opts.port, '/', 1_000)),
      );
      return answers.filter((a) => a.status === 'fulfilled').length >= replicas ? true : undefined;
    },
    Math.max(deadline - Date.now(), 1_000),
    500,
  );
}
