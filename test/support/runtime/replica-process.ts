import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./lease-replica.ts', import.meta.url));

export interface ReplicaEnv {
  readonly kubeconfigPath: string;
  readonly leaseNamespace: string;
  readonly leaseName: string;
  readonly watchNamespace: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
}

/** A lease-replica.ts child process whose JSON log lines the test reads. Stopped by its own PID. */
export class ReplicaProcess {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private stderr = '';

  constructor(
    readonly id: string,
    env: ReplicaEnv,
  ) {
    this.child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        KUBECONFIG: env.kubeconfigPath,
        REPLICA_ID: id,
        LEASE_NAMESPACE: env.leaseNamespace,
        LEASE_NAME: env.leaseName,
        WATCH_NAMESPACE: env.watchNamespace,
        LEASE_DURATION_MS: String(env.leaseDurationMs),
        RENEW_DEADLINE_MS: String(env.renewDeadlineMs),
        RETRY_PERIOD_MS: String(env.retryPeriodMs),
      },
    });
    let pending = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      for (const line of parts) if (line.startsWith('{')) this.lines.push(JSON.parse(line) as Record<string, unknown>);
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Keys this replica reconciled. */
  reconciled(): string[] {
    return this.lines.filter((l) => l.msg === 'reconciled').map((l) => String(l.key));
  }

  hasLogged(msg: string): boolean {
    return this.lines.some((l) => l.msg === msg);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  describe(): string {
    return `${this.id}: ${this.lines.map((l) => l.msg).join(' | ')}\nstderr: ${this.stderr.slice(-2000)}`;
  }
}
