/**
 * Fires `onStall` when `kick` has not been called for `timeoutMs`. A watch kicks it on every chunk,
 * bookmarks included, so only a connection that went silent (a half-open TCP connection, a stuck
 * proxy, an apiserver that stopped sending) trips it.
 */
export class Watchdog {
  private readonly timer: NodeJS.Timeout;

  constructor(timeoutMs: number, onStall: () => void) {
    this.timer = setTimeout(onStall, timeoutMs);
  }

  kick(): void {
    this.timer.refresh();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}
