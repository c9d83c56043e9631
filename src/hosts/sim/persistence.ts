import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

import type { ConfigMap, DeviceMap } from '../lxd/api-types.js';
import type { SimHostSpec } from './config.js';
import type { DockerdState, InstanceStatus, LocalMembership, SimInstance } from './instance.js';
import type { ClusterData } from './swarm-cluster.js';

/**
 * The world on disk: hosts, their instances (with pushed files) and the swarms. Strings that repeat
 * (configuration keys and values, file paths and contents: every node has the same daemon.json and
 * systemd drop-in, a bay's nodes the same CA bundle) are stored once in a shared table and referred
 * to by index, so thousands of nodes stay cheap to write. Faults and counters are not kept: they
 * belong to the test or benchmark that set them.
 */

export const WORLD_FILE_FORMAT = 'marina-sim-world';
export const WORLD_FILE_VERSION = 1;

export interface WorldFile {
  readonly format: typeof WORLD_FILE_FORMAT;
  readonly version: typeof WORLD_FILE_VERSION;
  readonly serial: number;
  /** World-wide image aliases told to the world; null: the alias is missing. */
  readonly images: readonly (readonly [string, string | null])[];
  /** Every string instances refer to by index. */
  readonly strings: readonly string[];
  readonly hosts: readonly HostRecord[];
  readonly swarms: readonly ClusterData[];
}

export interface HostRecord {
  readonly name: string;
  readonly index: number;
  readonly spec: SimHostSpec;
  readonly trusted: boolean;
  readonly nextAddress: number;
  readonly images: readonly (readonly [string, string | null])[];
  readonly missingBridges: readonly string[];
  readonly instances: readonly InstanceRecord[];
}

/** [path, content, mode, uid, gid], path and content as indices into the string table. */
type FileRecord = readonly [number, number, number, number, number];

export interface InstanceRecord {
  readonly name: string;
  readonly uid: number;
  readonly status: InstanceStatus;
  readonly createdAt: number;
  readonly startedAt?: number;
  /** key, value, key, value, ... as indices into the string table. */
  readonly config: readonly number[];
  readonly devices: DeviceMap;
  readonly address?: string;
  readonly files: readonly FileRecord[];
  readonly dirs: readonly string[];
  readonly dockerd: DockerdState;
  readonly swarm?: LocalMembership;
}

/** Interns strings into the shared table while records are written. */
export class StringTable {
  readonly strings: string[] = [];
  private readonly index = new Map<string, number>();

  add(content: string): number {
    let at = this.index.get(content);
    if (at === undefined) {
      at = this.strings.length;
      this.strings.push(content);
      this.index.set(content, at);
    }
    return at;
  }
}

export function instanceRecord(instance: SimInstance, table: StringTable): InstanceRecord {
  const files: FileRecord[] = [];
  for (const [path, file] of instance.files) {
    files.push([table.add(path), table.add(file.content), file.mode, file.uid, file.gid]);
  }
  const config: number[] = [];
  for (const [key, value] of Object.entries(instance.config)) config.push(table.add(key), table.add(value));
  return {
    name: instance.name,
    uid: instance.uid,
    status: instance.status,
    createdAt: instance.createdAt,
    ...(instance.startedAt === undefined ? {} : { startedAt: instance.startedAt }),
    config,
    devices: instance.devices,
    ...(instance.address === undefined ? {} : { address: instance.address }),
    files,
    dirs: [...instance.dirs],
    dockerd: instance.dockerd,
    ...(instance.swarm === undefined ? {} : { swarm: instance.swarm }),
  };
}

export function instanceFromRecord(record: InstanceRecord, host: string, strings: readonly string[]): SimInstance {
  // One string object per distinct content, shared by every node holding it, in memory as on disk.
  const text = (at: number): string => strings[at] ?? '';
  const files = new Map(
    record.files.map(([path, at, mode, uid, gid]) => [text(path), { content: text(at), mode, uid, gid }] as const),
  );
  const config: ConfigMap = {};
  for (let i = 0; i + 1 < record.config.length; i += 2) config[text(record.config[i]!)] = text(record.config[i + 1]!);
  return {
    name: record.name,
    uid: record.uid,
    host,
    status: record.status,
    createdAt: record.createdAt,
    ...(record.startedAt === undefined ? {} : { startedAt: record.startedAt }),
    config,
    devices: record.devices,
    address: record.address,
    files,
    dirs: new Set(record.dirs),
    dockerd: { ...record.dockerd, failure: record.dockerd.failure ?? undefined },
    swarm: record.swarm,
  };
}

/** Thrown when a file is not a world this code can read. */
export class WorldFileError extends Error {
  override readonly name = 'WorldFileError';
}

export async function readWorldFile(file: string): Promise<WorldFile | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = JSON.parse(text) as Partial<WorldFile>;
  if (parsed.format !== WORLD_FILE_FORMAT || parsed.version !== WORLD_FILE_VERSION) {
    throw new WorldFileError(`${file} is not a simulated world of format ${WORLD_FILE_FORMAT} v${WORLD_FILE_VERSION}`);
  }
  return parsed as WorldFile;
}

/**
 * Temp file and rename: a reader (or a crash) never sees half a world. Takes the text, serialised by
 * the caller in one go, so the file holds the world of one moment.
 */
export async function writeWorldFile(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await mkdir(dirname(file), { recursive: true });
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Saves at most once per debounce interval after changes, one save at a time. The timer does not
 * keep a process alive; `flush()` (called by `close()`) writes what is pending.
 */
export class DebouncedSaver {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(
    private readonly save: () => Promise<void>,
    private readonly delayMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush().catch(this.onError);
    }, this.delayMs);
    this.timer.unref();
  }

  /** Writes now if anything changed since the last save; resolves when that save is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.running
      .catch(() => undefined)
      .then(async () => {
        if (!this.dirty) return;
        this.dirty = false;
        try {
          await this.save();
        } catch (error) {
          this.dirty = true;
          throw error;
        }
      });
    return this.running;
  }

  /** Forces the next flush to write. */
  markDirty(): void {
    this.dirty = true;
  }
}
