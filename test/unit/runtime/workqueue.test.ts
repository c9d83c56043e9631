import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { WorkQueue, type WorkQueueMetrics } from '../../../src/runtime/workqueue.js';

/** Takes the next key only if one is ready now; never waits. */
async function takeReady(queue: WorkQueue): Promise<string | undefined> {
  if (queue.length === 0) return undefined;
  return queue.get();
}

describe('WorkQueue', () => {
  describe('de-duplication', () => {
    it('a key added twice is processed once', async () => {
      const queue = new WorkQueue();
      queue.add('ns/a');
      queue.add('ns/a');
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('ns/a');
      queue.done('ns/a');
      expect(await takeReady(queue)).toBeUndefined();
    });

    it('keys come out in the order they were added', async () => {
      const queue = new WorkQueue();
      for (const key of ['c', 'a', 'b', 'a']) queue.add(key);
      expect([await queue.get(), await queue.get(), await queue.get()]).toEqual(['c', 'a', 'b']);
    });

    it('a key added while it is processed is queued again once the worker is done', async () => {
      const queue = new WorkQueue();
      queue.add('k');
      const key = await queue.get();
      queue.add('k');
      queue.add('k');
      expect(queue.length).toBe(0);
      queue.done(key!);
      expect(queue.length).toBe(1);
      expect(await queue.get()).toBe('k');
    });

    it('a key added twice while a worker waits is processed once', async () => {
      const queue = new WorkQueue();
      const next = queue.get();
      queue.add('k');
      queue.add('k');
      expect(await next).toBe('k');
      queue.done('k');
      expect(queue.length).toBe(0);
    });

    it('a waiting worker is handed a key as soon as it is added', async () => {
      const queue = new WorkQueue();
      const next = queue.get();
      queue.add('late');
      expect(await next).toBe('late');
    });
  });

  describe('concurrency', () => {
    it('a key is never processed by two workers at once', async () => {
      const queue = new WorkQueue();
      const holding = new Set<string>();
      let overlaps = 0;
      let processed = 0;
      const worker = async (): Promise<void> => {
        for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
          if (holding.has(key)) overlaps++;
          holding.add(key);
          await new Promise((r) => setTimeout(r, 1));
          queue.add(key === 'hot' && processed < 20 ? 'hot' : 'cold');
          holding.delete(key);
          processed++;
          queue.done(key);
        }
      };
      queue.add('hot');
      const workers = Array.from({ length: 4 }, worker);
      await vi.waitFor(() => expect(processed).toBeGreaterThanOrEqual(20), { timeout: 5_000 });
      await queue.shutDown();
      await Promise.all(workers);
      expect(overlaps).toBe(0);
    });

    it('as many keys are processed at once as there are workers, and no more', async () => {
      const queue = new WorkQueue();
      let active = 0;
      let peak = 0;
      let processed = 0;
      const worker = async (): Promise<void> => {
        for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
          peak = Math.max(peak, ++active);
          await new Promise((r) => setTimeout(r, 5));
          active--;
          processed++;
          queue.done(key);
        }
      };
      for (let i = 0; i < 12; i++) queue.add(`k${i}`);
      const workers = Array.from({ length: 3 }, worker);
      await vi.waitFor(() => expect(processed).toBe(12), { timeout: 5_000 });
      await queue.shutDown();
      await Promise.all(workers);
      expect(peak).toBe(3);
    });
  });

  describe('delayed adds', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    it('a key added after a delay becomes ready only once the delay has passed', async () => {
      const queue = new WorkQueue();
      queue.addAfter('k', 1_000);
      vi.advanceTimersByTime(999);
      expect(queue.length).toBe(0);
      vi.advanceTimersByTime(1);
      expect(await takeReady(queue)).toBe('k');
    });

    it('the earliest addAfter wins', async () => {
      const queue = new WorkQueue();
      queue.addAfter('k', 5_000);
      queue.addAfter('k', 1_000);
      queue.addAfter('k', 3_000);
      vi.advanceTimersByTime(1_000);
      expect(await takeReady(queue)).toBe('k');
      queue.done('k');
      vi.advanceTimersByTime(10_000);
      expect(queue.length).toBe(0);
    });

    it('a key woken before its retry runs once: the pending retry is dropped, the run decides anew', async () => {
      const queue = new WorkQueue({ backoff: { baseMs: 8_000, maxMs: 60_000 } });
      queue.addRateLimited('k');
      vi.advanceTimersByTime(2_000);
      queue.add('k');
      expect(await takeReady(queue)).toBe('k');
      queue.done('k');
      vi.advanceTimersByTime(60_000);
      expect(queue.length).toBe(0);
    });

    it('a zero delay adds at once', async () => {
      const queue = new WorkQueue();
      queue.addAfter('k', 0);
      expect(await takeReady(queue)).toBe('k');
    });
  });

  describe('backoff', () => {
    beforeEach(() => vi.useFakeTimers());
    afterEach(() => vi.useRealTimers());

    /** Fails the next ready key once and reports after how many milliseconds it was ready again. */
    async function failOnce(queue: WorkQueue): Promise<number> {
      const took = await queue.get();
      queue.addRateLimited(took!);
      queue.done(took!);
      let waited = 0;
      while (queue.length === 0) {
        vi.advanceTimersByTime(1);
        waited++;
      }
      return waited;
    }

    it('backoff grows per failure and resets after forget', async () => {
      const queue = new WorkQueue({ backoff: { baseMs: 10, maxMs: 1_000 } });
      queue.add('k');
      const delays = [];
      for (let i = 0; i < 4; i++) delays.push(await failOnce(queue));
      expect(delays).toEqual([10, 20, 40, 80]);
      expect(queue.numRequeues('k')).toBe(4);
      queue.forget('k');
      expect(await failOnce(queue)).toBe(10);
    });

    it('backoff stops growing at its maximum', async () => {
      const queue = new WorkQueue({ backoff: { baseMs: 10, maxMs: 50 } });
      queue.add('k');
      const delays = [];
      for (let i = 0; i < 5; i++) delays.push(await failOnce(queue));
      expect(delays).toEqual([10, 20, 40, 50, 50]);
    });

    it('each key backs off on its own', async () => {
      const queue = new WorkQueue({ backoff: { baseMs: 10, maxMs: 1_000 } });
      queue.add('broken');
      await failOnce(queue);
      await failOnce(queue);
      queue.add('healthy');
      await queue.get(); // 'broken' is ready again; take it out of the way
      expect(await failOnce(queue)).toBe(10);
    });
  });

  describe('shutdown', () => {
    it('shutdown drains in-flight work', async () => {
      const queue = new WorkQueue();
      queue.add('in-flight');
      const key = await queue.get();
      let drained = false;
      const shutdown = queue.shutDown().then(() => (drained = true));
      await new Promise((r) => setTimeout(r, 20));
      expect(drained).toBe(false);
      queue.done(key!);
      await shutdown;
      expect(drained).toBe(true);
    });

    it('after shutdown queued keys are dropped, no new work is handed out and adds are ignored', async () => {
      const queue = new WorkQueue();
      queue.add('held');
      queue.add('queued');
      const held = await queue.get();
      const shutdown = queue.shutDown();
      queue.add('late');
      queue.addAfter('later', 1);
      expect(await queue.get()).toBeUndefined();
      expect(queue.length).toBe(0);
      queue.done(held!);
      await shutdown;
    });

    it('workers waiting for a key are released by shutdown', async () => {
      const queue = new WorkQueue();
      const waiting = [queue.get(), queue.get()];
      await queue.shutDown();
      expect(await Promise.all(waiting)).toEqual([undefined, undefined]);
    });
  });

  describe('metrics', () => {
    it('reports depth, adds and retries as keys move through', async () => {
      const seen = { depth: [] as number[], added: 0, retried: 0, queued: 0, worked: 0 };
      const metrics: WorkQueueMetrics = {
        depth: (n) => seen.depth.push(n),
        added: () => seen.added++,
        retried: () => seen.retried++,
        queued: () => seen.queued++,
        worked: () => seen.worked++,
      };
      const queue = new WorkQueue({ metrics });
      queue.add('a');
      queue.add('a');
      queue.add('b');
      const key = await queue.get();
      queue.addRateLimited(key!);
      queue.done(key!);
      await queue.shutDown();
      expect(seen).toEqual({ depth: [1, 2, 1, 0], added: 2, retried: 1, queued: 1, worked: 1 });
    });
  });
});
