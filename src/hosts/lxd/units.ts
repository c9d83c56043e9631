/**
 * LXD's size strings (`limits.memory`, disk `size`) and CPU limits (`limits.cpu`), both directions.
 * Suffixes per canonical/lxd `shared/units`: kB MB GB TB PB EB are powers of 1000, KiB MiB GiB TiB PiB
 * EiB powers of 1024, a bare number is bytes; `limits.memory` may also be a percentage of the host.
 */

const BINARY_SUFFIXES = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

const MULTIPLIERS: Readonly<Record<string, number>> = {
  '': 1,
  B: 1,
  kB: 1e3,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  TB: 1e12,
  PB: 1e15,
  EB: 1e18,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  PiB: 1024 ** 5,
  EiB: 1024 ** 6,
};

/** The shortest exact binary form: 4294967296 → "4GiB", 1500 → "1500B". */
export function formatBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`not a byte count: ${bytes}`);
  let value = bytes;
  let unit = 0;
  while (value !== 0 && value % 1024 === 0 && unit < BINARY_SUFFIXES.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value}${BINARY_SUFFIXES[unit]}`;
}

/** undefined for what is not a size (empty, malformed). `hostBytes` resolves percentages. */
export function parseBytes(value: string | undefined, hostBytes?: number): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) return hostBytes === undefined ? undefined : Math.floor((hostBytes * Number(percent[1])) / 100);
  const match = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(text);
  const multiplier = match ? MULTIPLIERS[match[2] ?? ''] : undefined;
  if (!match || multiplier === undefined) return undefined;
  return Math.floor(Number(match[1]) * multiplier);
}

/**
 * How many CPUs a `limits.cpu` value grants: "2" is two CPUs (load-balanced), "0-3" or "1,3" is a
 * pinned set (count its members), "1-1" pins one CPU.
 */
export function parseCpuLimit(value: string | undefined): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  let count = 0;
  for (const part of text.split(',')) {
    const range = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!range) return undefined;
    const first = Number(range[1]);
    const last = range[2] === undefined ? first : Number(range[2]);
    if (last < first) return undefined;
    count += last - first + 1;
  }
  return count;
}

/** A plain non-negative integer (`limits.processes`). */
export function parseCount(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value.trim()) : undefined;
}
