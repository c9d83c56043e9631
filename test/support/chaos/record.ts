/** One line of the chaos suite's summary: which fault, how many times, over how many bays. */
export interface ChaosRecord {
  readonly fault: string;
  readonly rounds: number;
  readonly bays?: number;
}

/**
 * Prints the record as one `chaos:` line of JSON, which the README's table is made from; printed only
 * once the test's checks passed, so a line means the fault was survived that many times.
 */
export function recordChaos(record: ChaosRecord): void {
  console.log(`chaos: ${JSON.stringify(record)}`);
}
