/**
 * Kubernetes-style quantities for memory and disk sizes. The CRDs accept whole Mi, Gi or Ti for flavors;
 * status reports sizes the same way. Decimal SI suffixes are understood when reading, for host reports.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50 };
const DECIMAL: Record<string, number> = { k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

export class QuantityError extends Error {
  constructor(readonly value: string) {
    super(`"${value}" is not a quantity such as 4Gi or 512Mi`);
    this.name = 'QuantityError';
  }
}

/** Bytes of a quantity such as `4Gi`, `512Mi`, `8G` or `1048576`. */
export function parseBytes(value: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(value.trim());
  if (!match) throw new QuantityError(value);
  const unit = match[2];
  const factor = unit === undefined ? 1 : (BINARY[unit] ?? DECIMAL[unit]!);
  return Math.round(Number(match[1]) * factor);
}

/** The largest binary unit that expresses `bytes` exactly, e.g. 4294967296 → `4Gi`. */
export function formatBytes(bytes: number): string {
  for (const unit of ['Ti', 'Gi', 'Mi', 'Ki'] as const) {
    const factor = BINARY[unit]!;
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
