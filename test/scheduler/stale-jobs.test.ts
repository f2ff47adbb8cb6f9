import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { noEffects } from '../../src/runner/effects.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { createSink, HORIZON_MS } from '../../src/scheduler/sink.js';
import type { Db } from '../../src/store/db.js';
import { quietLogger } from '../support/pipeline.js';

const db = {} as Db;
const NOW = new Date('2030-03-04T09:00:00Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

/**
 * The jobs of cancelled or moved timers: each removed from its own queue only, and none looked
 * for when it was due beyond the enqueue horizon (it was never added). Every conversation turn
 * cancels its wait's timer (4 hours or a day away): before, each cost three removal scripts,
 * one per queue, in turn, for a job that was never there.
 */
describe('removing stale timer jobs (real BullMQ)', () => {
  const opened: { close: () => Promise<unknown> }[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  function queues(): Queues {
    const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const q = createQueues(connection, `lltest-stale-${randomBytes(4).toString('hex')}`);
    opened.push({ close: async () => connection.quit() });
    opened.push({
      close: async () => {
        for (const queue of [q.timers, q.reminders, q.nudges])
          await queue.obliterate({ force: true });
        await closeQueues(q);
      },
    });
    return q;
  }

  it('removes each from its kind’s queue; one due beyond the horizon is not looked for', async () => {
    const q = queues();
    await q.timers.add(
      'flow_timeout',
      { itemId: 'a', version: 1 },
      { jobId: 'near', delay: 60_000 },
    );
    await q.reminders.add('reminder_day_before', { itemId: 'b', version: 1 }, { jobId: 'moved' });
    await q.nudges.add('lead_summary', { itemId: 'c', version: 1 }, { jobId: 'nudge', delay: 1 });
    // Cannot exist (due 4 hours ahead); added here only to show the sink does not look for it.
    await q.timers.add('flow_timeout', { itemId: 'd', version: 1 }, { jobId: 'far', delay: 1 });
    const removals = [q.timers, q.reminders, q.nudges].map((queue) => vi.spyOn(queue, 'remove'));

    await createSink(
      db,
      q,
      quietLogger,
      () => NOW,
    )({
      ...noEffects(),
      cancelledJobs: [
        { jobId: 'near', kind: 'flow_timeout', dueAt: at(60_000) },
        // A booking change does not know when the old job was due: always removed.
        { jobId: 'moved', kind: 'reminder_day_before', dueAt: null },
        { jobId: 'nudge', kind: 'lead_summary', dueAt: at(HORIZON_MS - 1) },
        { jobId: 'far', kind: 'flow_timeout', dueAt: at(4 * 3_600_000) },
      ],
    });

    expect(await q.timers.getJob('near')).toBeUndefined();
    expect(await q.reminders.getJob('moved')).toBeUndefined();
    expect(await q.nudges.getJob('nudge')).toBeUndefined();
    expect(await q.timers.getJob('far')).toBeDefined();
    const [timers, reminders, nudges] = removals.map((r) => r!.mock.calls.map((c) => c[0]));
    expect({ timers, reminders, nudges }).toEqual({
      timers: ['near'],
      reminders: ['moved'],
      nudges: ['nudge'],
    });
  });

  it('a job a skewed clock may have added just past the horizon is still removed', async () => {
    const q = queues();
    await q.timers.add('flow_timeout', { itemId: 'a', version: 1 }, { jobId: 'edge', delay: 1 });
    await createSink(
      db,
      q,
      quietLogger,
      () => NOW,
    )({
      ...noEffects(),
      cancelledJobs: [{ jobId: 'edge', kind: 'flow_timeout', dueAt: at(HORIZON_MS + 60_000) }],
    });
    expect(await q.timers.getJob('edge')).toBeUndefined();
  });
});
