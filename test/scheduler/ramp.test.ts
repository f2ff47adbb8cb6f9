import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { rampConcurrency } from '../../src/scheduler/ramp.js';

const redisUrl = 'redis://127.0.0.1:6379';

describe('concurrency ramp (the reminders worker)', () => {
  it('starts low, doubles as jobs start up to the maximum, and is low again once drained', () => {
    const w = Object.assign(new EventEmitter(), { concurrency: 160 });
    const ramp = rampConcurrency(w, 8, 160);
    expect(w.concurrency).toBe(8);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      ramp.started();
      seen.push(w.concurrency);
    }
    expect(seen).toEqual([16, 32, 64, 128, 160, 160]);
    w.emit('drained');
    expect(w.concurrency).toBe(8);
    // A start above the maximum is the maximum.
    const small = Object.assign(new EventEmitter(), { concurrency: 4 });
    rampConcurrency(small, 8, 4);
    expect(small.concurrency).toBe(4);
  });

  describe('on a real BullMQ Worker', () => {
    const opened: { close: () => Promise<unknown> }[] = [];
    afterEach(async () => {
      for (const o of opened.splice(0).reverse()) await o.close();
    });

    /**
     * 400 jobs waiting at once; how many the worker had already taken (active) when its first
     * job started. BullMQ fetches one at a time up to its concurrency before starting any.
     */
    async function activeAtFirstStart(ramped: boolean): Promise<{ active: number; done: number }> {
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      opened.push({ close: async () => connection.quit() });
      const prefix = `lltest-ramp-${randomBytes(4).toString('hex')}`;
      const queue = new Queue('ramp', { connection, prefix });
      opened.push({ close: () => queue.obliterate({ force: true }).then(() => queue.close()) });
      await queue.addBulk(
        Array.from({ length: 400 }, (_, i) => ({
          name: 'r',
          data: { i },
          opts: { delay: 60_000 },
        })),
      );
      let first: Promise<number> | null = null;
      let done = 0;
      let release!: () => void;
      const allDone = new Promise<void>((r) => {
        release = r;
      });
      let ramp: { started(): void } | null = null;
      const worker = new Worker(
        'ramp',
        async () => {
          ramp?.started();
          first ??= queue.getActiveCount();
          await first;
          done += 1;
          if (done === 400) release();
        },
        { connection, prefix, concurrency: 160, autorun: true },
      );
      opened.push(worker);
      if (ramped) ramp = rampConcurrency(worker, 8, 160);
      await worker.waitUntilReady();
      await queue.promoteJobs();
      await allDone;
      return { active: await first!, done };
    }

    it('a burst: the first job starts after a few fetches, not 160; every job still runs once', async () => {
      const ramped = await activeAtFirstStart(true);
      expect(ramped.done).toBe(400);
      expect(ramped.active).toBeLessThanOrEqual(8);
      // The same burst without the ramp: BullMQ had taken (about) 160 before starting one.
      const plain = await activeAtFirstStart(false);
      expect(plain.done).toBe(400);
      expect(plain.active).toBeGreaterThan(100);
    }, 60_000);
  });
});
