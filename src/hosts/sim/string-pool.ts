/**
 * Recently seen strings, so that equal ones pushed to many nodes (a bay's CA bundle, every node's
 * daemon.json and kernel module list) share one copy in memory. Bounded: strings seen once (a node's
 * own certificate and key) pass through and are forgotten.
 */
export class StringPool {
  private readonly recent = new Map<string, string>();

  constructor(private readonly capacity = 256) {}

  intern(value: string): string {
    const known = this.recent.get(value);
    if (known !== undefined) {
      // Most recently used last, so the oldest is the first to go.
      this.recent.delete(value);
      this.recent.set(known, known);
      return known;
    }
    this.recent.set(value, value);
    if (this.recent.size > this.capacity) this.recent.delete(this.recent.keys().next().value!);
    return value;
  }
}
