import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

/**
 * `marina run` as its own OS process, as it runs in production, against the test apiserver: so a test
 * can SIGKILL it mid-reconcile and start another one. Every log line of every run is kept, for failure
 * reports and for the scan for leaked key material at the end of a file.
 */
export class OperatorProcess {
  private child: ChildProcess | undefined;
  private readonly lines: string[] = [];

  constructor(
    private readonly kubeconfigPath: string,
    private readonly extraArgs: readonly string[] = ['--probe-interval', '5', '--resync', '10'],
    /** Options for node itself (a benchmark's --cpu-prof). */
    private readonly nodeArgs: readonly string[] = [],
  ) {}

  /** The operator's process id while it runs. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const child = spawn(process.execPath, [...this.nodeArgs, join(repoRoot, 'dist', 'cli', 'main.js'), 'run', '--kubeconfig', this.kubeconfigPath, '--health-port', '0', ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', lineCollector(this.lines));
    child.stderr?.on('data', lineCollector(this.lines));
    this.child = child;
  }

  /** SIGKILL: no drain, no lease release — a crash. */
  async kill(): Promise<void> {
    await this.signal('SIGKILL');
  }

  async stop(): Promise<void> {
    await this.signal('SIGTERM');
  }

  /** Parsed JSON log lines, oldest first (non-JSON lines are skipped). */
  logRecords(): Record<string, unknown>[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line) as Record<string, unknown>];
      } catch {
        return [];
      }
    });
  }

  /** The port of /metrics, /healthz and /readyz, as the operator logged it when it started. */
  healthPort(): number | undefined {
    const started = this.logRecords().findLast((r) => r['msg'] === 'manager started');
    return typeof started?.['healthPort'] === 'number' ? started['healthPort'] : undefined;
  }

  /** The operator's /metrics in the Prometheus text format. */
  async metricsText(): Promise<string> {
    const port = this.healthPort();
    if (port === undefined) throw new Error('the operator has not logged its health port yet');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    return res.text();
  }

  /** One sample of /metrics: the sum over series of `name` whose labels include `labels`. */
  async metric(name: string, labels: Record<string, string> = {}): Promise<number> {
    return sumSamples(await this.metricsText(), name, labels);
  }

  /** Every line the operator wrote on stdout and stderr, oldest first. */
  logLines(): readonly string[] {
    return this.lines;
  }

  logTail(n = 80): string {
    return this.lines.slice(-n).join('\n');
  }

  private async signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}

/** Appends the complete lines of a stream to `lines`; a line split across chunks is joined first. */
function lineCollector(lines: string[]): (chunk: Buffer) => void {
  let partial = '';
  return (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts.filter(Boolean));
  };
}

/** Sums the samples of one metric in Prometheus text exposition whose labels include every given pair. */
export function sumSamples(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[3] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(match[4]);
  }
  return sum;
}
