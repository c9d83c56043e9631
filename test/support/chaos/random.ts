/**
 * The chaos suite's randomness, seeded so that a failing run can be replayed: the seed is printed at
 * the start of each file, and MARINA_CHAOS_SEED=<seed> runs the same moments again.
 */
export interface ChaosRandom {
  readonly seed: number;
  /** A whole number of milliseconds in [min, max). */
  delayMs(min: number, max: number): number;
}

export function chaosRandom(file: string): ChaosRandom {
  const given = Number(process.env['MARINA_CHAOS_SEED']);
  const seed = Number.isInteger(given) && given > 0 ? given : Math.floor(Math.random() * 2 ** 31) + 1;
  console.log(`${file}: MARINA_CHAOS_SEED=${seed}`);
  const next = mulberry32(seed);
  return { seed, delayMs: (min, max) => Math.floor(min + next() * (max - min)) };
}

/** A small, well-known 32-bit generator: enough to spread kill moments, and reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
