import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sampleProcess } from './measure.js';

/**
 * Where a machine's CPU went during a measured run: a bay's time to Ready on a small host is bounded
 * by how much work its nodes' boots, the host daemon (LXD or Incus) and the operator put on the cores,
 * and a run that kept every core busy is one no amount of overlapping can make faster. Read from /proc
 * and the containers' cgroups (v1 cpuacct or v2 cpu.stat), so it counts what the kernel saw, not what
 * marina thinks it asked for.
 */

export interface CpuReading {
  readonly at: number;
  /** Seconds the machine's cores were busy (not idle, not waiting for I/O), summed over cores. */
  readonly machineBusy: number;
  readonly daemon: number;
  /** Every LXD container on the host: its payload and its monitor. */
  readonly containers: number;
  readonly operator: number;
}

export interface CpuUse {
  /** Cores the machine kept busy on average: 2.0 on a saturated 2-core machine. */
  readonly busyCores: number;
  readonly daemonSeconds: number;
  readonly containersSeconds: number;
  readonly operatorSeconds: number;
}

const USER_HZ = 100;

async function machineBusySeconds(): Promise<number> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!;
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is work.
  const [user, nice, system, , , irq, softirq, steal] = first.split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / USER_HZ;
}

/** The host daemon's own CPU time and that of the helpers it waited for (forkstart, forkfile, ...). */
async function daemonSeconds(pid: number | undefined): Promise<number> {
  if (pid === undefined) return 0;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  if (stat === '') return 0;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / USER_HZ;
}

const V1_CPUACCT = '/sys/fs/cgroup/cpuacct';
const V2_ROOT = '/sys/fs/cgroup';
const isContainerGroup = (name: string): boolean => name.startsWith('lxc.payload.') || name.startsWith('lxc.monitor.');

async function containerSeconds(): Promise<number> {
  const v1 = await readdir(V1_CPUACCT).catch(() => undefined);
  const root = v1 === undefined ? V2_ROOT : V1_CPUACCT;
  const groups = (v1 ?? (await readdir(V2_ROOT).catch(() => [] as string[]))).filter(isContainerGroup);
  const seconds = await Promise.all(
    groups.map(async (group) => {
      if (v1 !== undefined) {
        return Number(await readFile(join(root, group, 'cpuacct.usage'), 'utf8').catch(() => '0')) / 1e9;
      }
      const stat = await readFile(join(root, group, 'cpu.stat'), 'utf8').catch(() => '');
      return Number(/usage_usec (\d+)/.exec(stat)?.[1] ?? 0) / 1e6;
    }),
  );
  return seconds.reduce((a, b) => a + b, 0);
}

/** The pid of the host daemon (`lxd` or `incusd`), if one runs here. */
export async function hostDaemonPid(command: 'lxd' | 'incusd'): Promise<number | undefined> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = await readFile(`/proc/${entry}/comm`, 'utf8').catch(() => '');
    if (comm.trim() === command) {
      const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
      // The daemon (`lxd --group ...`), not a helper it runs (`lxd forkstart ...`, `incusd callhook ...`).
      const first = cmdline.split('\0')[1] ?? '';
      if (first === '' || first.startsWith('-')) return Number(entry);
    }
  }
  return undefined;
}

export async function readCpu(daemonPid: number | undefined, operatorPid: number | undefined): Promise<CpuReading> {
  const [machineBusy, daemon, containers, operator] = await Promise.all([
    machineBusySeconds(),
    daemonSeconds(daemonPid),
    containerSeconds(),
    operatorPid === undefined ? 0 : sampleProcess(operatorPid).then((s) => s.cpuSeconds, () => 0),
  ]);
  return { at: Date.now(), machineBusy, daemon, containers, operator };
}

export function cpuUse(before: CpuReading, after: CpuReading): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    busyCores: round((after.machineBusy - before.machineBusy) / seconds),
    daemonSeconds: round(after.daemon - before.daemon),
    containersSeconds: round(after.containers - before.containers),
    operatorSeconds: round(after.operator - before.operator),
  };
}
