import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sumSamples } from '../../test/support/bays/operator.js';
import { startKubeEnv, type KubeEnv } from '../../test/support/kube-env.js';

/**
 * What the fleet benchmarks measure, from the outside: the apiserver's own audit log says which
 * requests the operator's identity made (apiserver_request_total has no user label, and counts the
 * apiserver's own loopback traffic too), /proc says what the operator process used.
 */

/** The identity the benchmarked operator runs as, so its requests can be told from everyone else's. */
export const OPERATOR_USER = 'marina-operator';

const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: [${OPERATOR_USER}]
  - level: None
`;

export interface AuditedKubeEnv {
  readonly env: KubeEnv;
  readonly auditLog: string;
  /** A kubeconfig for OPERATOR_USER (cluster admin: the benchmark measures traffic, not RBAC). */
  readonly operatorKubeconfig: string;
}

/** A real apiserver that audits every request of the operator's identity. */
export async function startAuditedKubeEnv(workDir: string): Promise<AuditedKubeEnv> {
  const policy = join(workDir, 'audit-policy.yaml');
  const auditLog = join(workDir, 'audit.log');
  await writeFile(policy, AUDIT_POLICY);
  const env = await startKubeEnv({
    apiserverArgs: [`--audit-policy-file=${policy}`, `--audit-log-path=${auditLog}`, '--audit-log-maxsize=1024', '--audit-log-mode=batch', '--audit-log-batch-max-wait=1s'],
  });
  return { env, auditLog, operatorKubeconfig: await env.mintUser(OPERATOR_USER, ['system:masters']) };
}

export interface AuditedRequests {
  readonly total: number;
  /** `verb resource[/subresource]` → count, largest first. */
  readonly byKind: ReadonlyArray<readonly [string, number]>;
}

interface AuditEvent {
  readonly auditID: string;
  readonly stage: string;
  readonly verb: string;
  readonly user?: { readonly username?: string };
  readonly objectRef?: { readonly resource?: string; readonly subresource?: string };
  readonly requestReceivedTimestamp: string;
}

/**
 * Requests of the operator's identity received in [fromMs, toMs). A watch is one request (logged when
 * its response starts and again when it ends: counted once by its audit ID).
 */
export async function operatorRequests(auditLog: string, fromMs: number, toMs: number): Promise<AuditedRequests> {
  const text = await readFile(auditLog, 'utf8').catch(() => '');
  const seen = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as AuditEvent;
    if (e.user?.username !== OPERATOR_USER) continue;
    const at = Date.parse(e.requestReceivedTimestamp);
    if (at < fromMs || at >= toMs) continue;
    const resource = e.objectRef?.resource ? `${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}` : 'non-resource';
    seen.set(e.auditID, `${e.verb} ${resource}`);
  }
  const byKind = new Map<string, number>();
  for (const kind of seen.values()) byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
  return { total: seen.size, byKind: [...byKind].sort((a, b) => b[1] - a[1]) };
}

/** apiserver_request_total over every client, the apiserver's own loopback traffic included. */
export async function apiserverRequestTotal(env: KubeEnv): Promise<number> {
  const metrics = await env.kubectl(['get', '--raw', '/metrics']);
  return sumSamples(metrics.stdout, 'apiserver_request_total');
}

export interface ProcessSample {
  readonly at: number;
  readonly rssBytes: number;
  /** User + system CPU time so far. */
  readonly cpuSeconds: number;
}

/** One reading of a process's resident memory and CPU time from /proc. */
export async function sampleProcess(pid: number): Promise<ProcessSample> {
  const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  // Fields after the command name (which may hold spaces) start at state; utime and stime are the 14th and 15th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { at: Date.now(), rssBytes: rssKb * 1024, cpuSeconds: ticks / 100 };
}

/** Average share of one core used between two samples, in percent. */
export const cpuPercent = (a: ProcessSample, b: ProcessSample): number => (100 * (b.cpuSeconds - a.cpuSeconds)) / ((b.at - a.at) / 1000);

export const perHour = (count: number, ms: number): number => (count * 3_600_000) / ms;

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Prints rows as a Markdown table (what the README and closing notes show). */
export function printTable(header: readonly string[], rows: ReadonlyArray<readonly (string | number)[]>): void {
  const line = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  console.log([line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n'));
}

export interface IdleMeasurement {
  readonly idleMinutes: number;
  readonly apiRequestsPerIdleBayPerHour: number;
  /** The same without Lease renewals: what the bays themselves cost. */
  readonly apiRequestsPerIdleBayPerHourWithoutLease: number;
  readonly operatorRequests: AuditedRequests;
  readonly apiserverRequestsAllClientsPerHour: number;
  readonly hostCallsPerIdleBayPerHour: number;
  readonly rssMiB: number;
  readonly maxRssMiB: number;
  readonly idleCpuPercent: number;
}

export interface IdleTarget {
  readonly env: KubeEnv;
  readonly auditLog: string;
  readonly pid: number;
  /** The operator's /metrics text. */
  metricsText(): Promise<string>;
  readonly bays: number;
}

/**
 * Leaves the operator alone for `windowMs` and measures what it costs: its requests as the apiserver
 * audited them, its host-provider calls (marina_host_calls_total), its resident memory (sampled every
 * 10 s) and its CPU time.
 */
export async function measureIdle(target: IdleTarget, windowMs: number): Promise<IdleMeasurement> {
  const sample = async () => ({
    at: Date.now(),
    process: await sampleProcess(target.pid),
    apiserver: await apiserverRequestTotal(target.env),
    host: sumSamples(await target.metricsText(), 'marina_host_calls_total'),
  });
  const begin = await sample();
  let maxRss = begin.process.rssBytes;
  while (Date.now() < begin.at + windowMs) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, begin.at + windowMs - Date.now())));
    maxRss = Math.max(maxRss, (await sampleProcess(target.pid)).rssBytes);
  }
  const end = await sample();
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the audit log is written in batches
  const window = end.at - begin.at;
  const requests = await operatorRequests(target.auditLog, begin.at, end.at);
  const leases = requests.byKind.filter(([kind]) => kind.endsWith(' leases')).reduce((sum, [, n]) => sum + n, 0);
  return {
    idleMinutes: window / 60_000,
    apiRequestsPerIdleBayPerHour: perHour(requests.total, window) / target.bays,
    apiRequestsPerIdleBayPerHourWithoutLease: perHour(requests.total - leases, window) / target.bays,
    operatorRequests: requests,
    apiserverRequestsAllClientsPerHour: perHour(end.apiserver - begin.apiserver, window),
    hostCallsPerIdleBayPerHour: perHour(end.host - begin.host, window) / target.bays,
    rssMiB: end.process.rssBytes / 2 ** 20,
    maxRssMiB: maxRss / 2 ** 20,
    idleCpuPercent: cpuPercent(begin.process, end.process),
  };
}

/** The columns both idle benchmarks print. */
export const IDLE_COLUMNS = ['idle', 'API req / idle bay / h (without Lease)', 'host-provider calls / idle bay / h', 'RSS (max)', 'idle CPU'] as const;

export function idleCells(m: IdleMeasurement): string[] {
  return [
    `${m.idleMinutes.toFixed(1)} min`,
    `${m.apiRequestsPerIdleBayPerHour.toFixed(3)} (${m.apiRequestsPerIdleBayPerHourWithoutLease.toFixed(3)})`,
    m.hostCallsPerIdleBayPerHour.toFixed(2),
    `${m.rssMiB.toFixed(0)} MiB (${m.maxRssMiB.toFixed(0)})`,
    `${m.idleCpuPercent.toFixed(2)} %`,
  ];
}

/** A benchmark's figure over its runs. */
export interface Spread {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
}

export function spread(xs: readonly number[]): Spread {
  return { medianMs: median(xs), minMs: Math.min(...xs), maxMs: Math.max(...xs) };
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Busy and total CPU time of the machine so far, in jiffies (the first line of /proc/stat). */
async function cpuTimes(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = fields[3]! + (fields[4] ?? 0);
  const total = fields.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * Waits until the machine is nearly idle (at most `busyShare` of its CPU busy over a second), or
 * `maxMs` passed, and returns how long it waited. A run that starts while the last one's nodes are
 * still being deleted (the storage driver frees their volumes afterwards) measures that too.
 */
export async function machineSettled(busyShare = 0.15, maxMs = 30_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    const before = await cpuTimes();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const after = await cpuTimes();
    const share = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    if (share <= busyShare || Date.now() - started >= maxMs) return Date.now() - started;
  }
}
