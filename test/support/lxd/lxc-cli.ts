import { run, waitFor, type RunResult } from '../processes.js';
import type { LxdTestHost } from './host.js';

/**
 * The keys marina writes on an instance (the contract in docs/hosts.md), spelled out
 * here instead of imported from src/hosts: a test that read them through marina's own parsing could not
 * catch a bug in that parsing.
 */
export const MARINA_KEYS = {
  bayUid: 'user.marina.bay.uid',
  namespace: 'user.marina.bay.namespace',
  bayName: 'user.marina.bay.name',
  index: 'user.marina.node.index',
  role: 'user.marina.node.role',
  /** "false" once a bay deleted under Retain has released the node. */
  managed: 'user.marina.managed',
} as const;

const ATTACH_ATTEMPTS = 5;
const ATTACH_FAILURE = /^Error: Failed to retrieve PID of executing child process/m;

/** One instance as `lxc list --format json` shows it. */
export interface LxcInstance {
  readonly name: string;
  /** LXD's own words: Running, Stopped, Frozen, Error... */
  readonly status: string;
  readonly config: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  /** Global IPv4 addresses of eth0 (none while stopped or before DHCP answered). */
  readonly ipv4: readonly string[];
}

interface LxcAddress {
  family: string;
  address: string;
  scope: string;
}

interface LxcListEntry {
  name: string;
  status: string;
  config?: Record<string, string>;
  created_at: string;
  state?: { network?: Record<string, { addresses?: LxcAddress[] }> | null } | null;
}

/**
 * The real `lxc` command against the LXD daemon the tests use: how an e2e test looks at the host (and
 * interferes with it) without going through marina's provider, which is what is being tested.
 */
export class LxcCli {
  private readonly env: NodeJS.ProcessEnv;

  /**
   * `socketEndpoint` is the host's `unix://` endpoint; the CLI finds the socket through LXD_SOCKET
   * (`incus`: INCUS_SOCKET). The two CLIs take the same commands for everything the tests do.
   */
  constructor(
    socketEndpoint: string,
    readonly command: 'lxc' | 'incus' = 'lxc',
  ) {
    if (!socketEndpoint.startsWith('unix://')) throw new Error(`${command} needs a unix socket, not ${socketEndpoint}`);
    const socketVariable = command === 'incus' ? 'INCUS_SOCKET' : 'LXD_SOCKET';
    this.env = { ...process.env, [socketVariable]: socketEndpoint.slice('unix://'.length) };
  }

  /** Runs the CLI with the arguments; never throws on a non-zero exit. */
  run(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    return run(this.command, args, { env: this.env, timeoutMs: opts.timeoutMs ?? 120_000 });
  }

  /** Runs the CLI and fails with its stderr when it exits non-zero. */
  async must(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.run(args, opts);
    if (result.code !== 0) {
      throw new Error(`${this.command} ${args.join(' ')} failed (${result.code}): ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  /**
   * A one-time trust token for a client named `name` (`lxc config trust add --name`, `incus config
   * trust add`): what an admin hands marina instead of adding its certificate.
   */
  async trustToken(name: string): Promise<string> {
    const args = this.command === 'incus' ? ['config', 'trust', 'add', name] : ['config', 'trust', 'add', '--name', name];
    const lines = (await this.must(args)).split('\n').map((l) => l.trim()).filter(Boolean);
    const token = lines.at(-1);
    if (!token) throw new Error(`${this.command} config trust add printed no token`);
    return token;
  }

  /** Every instance on the host, sorted by name. */
  async list(): Promise<LxcInstance[]> {
    const entries = JSON.parse(await this.must(['list', '--format', 'json'])) as LxcListEntry[];
    return entries.map(toInstance).sort((a, b) => a.name.localeCompare(b.name));
  }

  async instance(name: string): Promise<LxcInstance | undefined> {
    return (await this.list()).find((instance) => instance.name === name);
  }

  /** `lxc config get`: the empty string for a key that is not set. */
  async configGet(name: string, key: string): Promise<string> {
    return (await this.must(['config', 'get', name, key])).trim();
  }

  /**
   * `lxc exec`, the command's exit code and output as they are. LXD 5.0 now and then fails to attach
   * the command ("Failed to retrieve PID of executing child process", canonical/lxd#12084), also on a
   * node that has run for a while when the host is busy, and it is run again. It may have run all the
   * same: give only commands that may run twice (`ip address replace`, not `add`).
   */
  async exec(name: string, command: readonly string[], opts: { timeoutMs?: number } = {}): Promise<RunResult> {
    for (let attempt = 1; ; attempt++) {
      const result = await this.run(['exec', name, '--', ...command], opts);
      if (!ATTACH_FAILURE.test(result.stderr) || attempt >= ATTACH_ATTEMPTS) return result;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }

  /** exec, and fail with its stderr when the command exits non-zero. */
  async mustExec(name: string, command: readonly string[], opts: { timeoutMs?: number } = {}): Promise<string> {
    const result = await this.exec(name, command, opts);
    if (result.code !== 0) {
      const argv = `${this.command} exec ${name} -- ${command.join(' ')}`;
      throw new Error(`${argv} failed (${result.code}): ${result.stderr.trim()}`);
    }
    return result.stdout;
  }

  /** The host's managed networks and network ACLs that marina made for a bay (they carry its keys). */
  async bayNetworks(): Promise<{ networks: LxcBayNetwork[]; acls: LxcBayNetwork[] }> {
    const parse = async (args: readonly string[]): Promise<LxcBayNetwork[]> => {
      const entries = JSON.parse(await this.must(args)) as { name: string; config?: Record<string, string> }[];
      return entries
        .map((e) => ({ name: e.name, config: e.config ?? {} }))
        .filter((e) => e.config[MARINA_KEYS.bayUid] !== undefined);
    };
    const [networks, acls] = await Promise.all([
      parse(['network', 'list', '--format', 'json']),
      parse(['network', 'acl', 'list', '--format', 'json']),
    ]);
    return { networks, acls };
  }

  /** Fingerprints of the client certificates the daemon trusts (`lxc config trust list`). */
  async trustedFingerprints(): Promise<string[]> {
    const listed = await this.must(['config', 'trust', 'list', '--format', 'json']);
    return (JSON.parse(listed) as { fingerprint: string }[]).map((entry) => entry.fingerprint);
  }

  async stop(name: string, opts: { force?: boolean } = {}): Promise<void> {
    await this.must(['stop', name, ...(opts.force ? ['--force'] : [])]);
  }

  /**
   * `lxc delete --force`, retried while LXD is still busy with the instance (a start or stop in
   * progress makes a delete fail with "Instance is busy"). False when there was nothing to delete.
   */
  async deleteForce(name: string): Promise<boolean> {
    return waitFor(`lxc delete --force ${name}`, async () => {
      const result = await this.run(['delete', '--force', name]);
      if (result.code === 0) return true;
      if (/not found/i.test(result.stderr)) return false;
      throw new Error(result.stderr.trim());
    }, 120_000, 2_000);
  }
}

/** A bay's bridge or ACL on the host. */
export interface LxcBayNetwork {
  readonly name: string;
  readonly config: Record<string, string>;
}

/** Deletes the bay bridges and ACLs made for bays of the namespace (bridges first: they use the ACLs). */
export async function sweepBayNetworks(lxc: LxcCli, namespace: string): Promise<string[]> {
  const { networks, acls } = await lxc.bayNetworks();
  const ours = (n: LxcBayNetwork): boolean => n.config[MARINA_KEYS.namespace] === namespace;
  for (const n of networks.filter(ours)) await lxc.must(['network', 'delete', n.name]);
  for (const a of acls.filter(ours)) await lxc.must(['network', 'acl', 'delete', a.name]);
  return [...networks, ...acls].filter(ours).map((n) => n.name);
}

/** The observer for the test host. */
export function lxcFor(host: LxdTestHost): LxcCli {
  return new LxcCli(host.socketEndpoint, host.cli);
}

function toInstance(entry: LxcListEntry): LxcInstance {
  const addresses = entry.state?.network?.['eth0']?.addresses ?? [];
  return {
    name: entry.name,
    status: entry.status,
    config: entry.config ?? {},
    createdAt: new Date(entry.created_at),
    ipv4: addresses.filter((a) => a.family === 'inet' && a.scope === 'global').map((a) => a.address),
  };
}

/** The instance carries the bay's uid (whether or not it was released since). */
export function ofBay(bayUid: string): (instance: LxcInstance) => boolean {
  return (instance) => instance.config[MARINA_KEYS.bayUid] === bayUid;
}

/** The instance was made for a bay of the namespace. */
export function inNamespace(namespace: string): (instance: LxcInstance) => boolean {
  return (instance) => instance.config[MARINA_KEYS.namespace] === namespace;
}

/** The instance's `user.marina.*` keys, as the host keeps them. */
export function marinaKeys(instance: LxcInstance): Record<string, string> {
  return Object.fromEntries(Object.entries(instance.config).filter(([key]) => key.startsWith('user.marina.')));
}

/** The node index marina wrote on the instance. */
export function nodeIndex(instance: LxcInstance): number {
  return Number(instance.config[MARINA_KEYS.index]);
}

/** The names of the host's instances that match, sorted. */
export async function instanceNames(lxc: LxcCli, matches: (instance: LxcInstance) => boolean): Promise<string[]> {
  return (await lxc.list()).filter(matches).map((instance) => instance.name);
}

/**
 * Deletes every instance that matches, released ones included, and returns their names: a test's
 * clean-up must not depend on marina's reading of its own keys.
 */
export async function sweepInstances(lxc: LxcCli, matches: (instance: LxcInstance) => boolean): Promise<string[]> {
  const names = await instanceNames(lxc, matches);
  await Promise.all(names.map((name) => lxc.deleteForce(name)));
  return names;
}

/**
 * Nodes of earlier runs of the file that died before their afterAll (a killed worker): only old ones,
 * so that a concurrent run's nodes are left alone.
 */
export function leftByCrashedRuns(prefix: string, olderThanMs = 2 * 60 * 60_000): (instance: LxcInstance) => boolean {
  const cutoff = Date.now() - olderThanMs;
  return (instance) => {
    const namespace = instance.config[MARINA_KEYS.namespace] ?? '';
    return (namespace === prefix || namespace.startsWith(`${prefix}-`)) && instance.createdAt.getTime() < cutoff;
  };
}
