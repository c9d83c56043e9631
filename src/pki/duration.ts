import { InvalidDurationError } from './errors.js';

/**
 * Durations in Go's `time.ParseDuration` syntax, the form Kubernetes users know from cert-manager and
 * the Bay's `tls` fields: a sequence of decimal numbers with units, e.g. `2160h`, `1h30m`, `1.5h`,
 * `500ms`. Units: ns, us (µs, μs), ms, s, m, h. Results are milliseconds (fractional below 1 ms).
 * Unlike Go, a sign is rejected: every duration marina reads is a length of time.
 */

const MS_PER_UNIT: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

const TERM = /(\d+\.?\d*|\.\d+)([a-zµμ]+)/gy;

export function parseDuration(input: string): number {
  if (input === '0') return 0;
  if (input === '') throw new InvalidDurationError(input, 'empty');
  if (/^[-+]/.test(input)) throw new InvalidDurationError(input, 'a sign is not allowed');
  let total = 0;
  let end = 0;
  TERM.lastIndex = 0;
  for (let match = TERM.exec(input); match !== null; match = TERM.exec(input)) {
    const [, value, unit] = match as unknown as [string, string, string];
    const scale = MS_PER_UNIT[unit];
    if (scale === undefined) throw new InvalidDurationError(input, `unknown unit ${JSON.stringify(unit)}`);
    total += Number(value) * scale;
    end = TERM.lastIndex;
  }
  if (end !== input.length) throw new InvalidDurationError(input, 'expected numbers with units such as 720h or 10m');
  if (!Number.isFinite(total)) throw new InvalidDurationError(input, 'too large');
  return total;
}
