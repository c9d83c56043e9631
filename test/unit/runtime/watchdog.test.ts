import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Watchdog } from '../../../src/runtime/watchdog.js';

describe('watch watchdog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires after a full period without a kick', () => {
    const onStall = vi.fn();
    new Watchdog(1_000, onStall);
    vi.advanceTimersByTime(999);
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onStall).toHaveBeenCalledOnce();
  });

  it('every kick (an event or a bookmark) starts the period again', () => {
    const onStall = vi.fn();
    const watchdog = new Watchdog(1_000, onStall);
    for (let i = 0; i < 5; i++) {
      vi.advanceTimersByTime(900);
      watchdog.kick();
    }
    expect(onStall).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1_000);
    expect(onStall).toHaveBeenCalledOnce();
  });

  it('never fires once stopped', () => {
    const onStall = vi.fn();
    new Watchdog(1_000, onStall).stop();
    vi.advanceTimersByTime(10_000);
    expect(onStall).not.toHaveBeenCalled();
  });
});
