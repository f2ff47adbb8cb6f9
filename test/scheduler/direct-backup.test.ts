import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { noEffects } from '../../src/runner/effects.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { createSink, DIRECT_BACKUP_DELAY_MS, sendJobId } from '../../src/scheduler/sink.js';
import type { Db } from '../../src/store/db.js';
import { quietLogger } from '../support/pipeline.js';

const db = {} as Db;

/**
 * A reply sent at once by the process that wrote it keeps an outbound job as its durable path,
 * delayed: removed when the direct send finishes, promoted when it could not send, left to run
 * after its delay when the direct send never ends (the process died).
 */
describe('a direct reply send and its backup job (real BullMQ)', () => {
  const opened: { close: () => Promise<unknown> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
  });

  function queues(): Queues {
    const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const q = createQueues(connection, `lltest-backup-${randomBytes(4).toString('hex')}`);
    opened.push({ close: async () => connection.quit() });
    opened.push({
      close: async () => {
        await q.outbound.obliterate({ force: true });
        await closeQueues(q);
      },
    });
    return q;
  }

  /** The job's state once the direct send has settled and the sink has reacted. */
  async function stateAfter(
    q: Queues,
    id: string,
    settled: Promise<unknown>,
  ): Promise<string | undefined> {
    await settled.catch(() => undefined);
    // The sink removes or promotes after the send settles: wait for it to have done so.
    for (let i = 0; i < 100; i++) {
      const state = await (await q.outbound.getJob(sendJobId(id)))?.getState();
      if (state !== 'delayed') return state;
      await new Promise((r) => setTimeout(r, 20));
    }
    return (await q.outbound.getJob(sendJobId(id)))?.getState();
  }

  it('sent directly: the backup job is removed', async () => {
    const q = queues();
    let sent!: Promise<unknown>;
    const sink = createSink(db, q, quietLogger, undefined, 3_000, (id) => {
      sent = Promise.resolve(`sent ${id}`);
      return sent;
    });
    await sink({ ...noEffects(), sends: [{ id: 'reply-1', priority: 10 }] });
    expect(await stateAfter(q, 'reply-1', sent)).toBeUndefined();
  });

  it('the direct send could not send it: the job is promoted and runs now, not after its delay', async () => {
    const q = queues();
    let tried!: Promise<unknown>;
    const sink = createSink(db, q, quietLogger, undefined, 3_000, () => {
      tried = Promise.reject(new Error('an earlier text to them is still out'));
      return tried;
    });
    await sink({ ...noEffects(), sends: [{ id: 'reply-2', priority: 10 }] });
    // 'prioritized': a reply's job waits in BullMQ's priority set, ahead of reminders.
    expect(await stateAfter(q, 'reply-2', tried)).toBe('prioritized');
  });

  it('the direct send never ends (the process died): the job waits out its delay, then runs', async () => {
    const q = queues();
    const sink = createSink(db, q, quietLogger, undefined, 3_000, () => new Promise(() => {}));
    await sink({ ...noEffects(), sends: [{ id: 'reply-3', priority: 10 }] });
    const job = await q.outbound.getJob(sendJobId('reply-3'));
    expect(await job?.getState()).toBe('delayed');
    expect(job?.opts.delay).toBe(DIRECT_BACKUP_DELAY_MS);
    expect(job?.data).toEqual({ messageId: 'reply-3' });
  });

  it('a reminder (priority 0) is not sent directly: its job runs at once, undelayed', async () => {
    const q = queues();
    const direct: string[] = [];
    const sink = createSink(db, q, quietLogger, undefined, 3_000, async (id) => {
      direct.push(id);
    });
    await sink({ ...noEffects(), sends: [{ id: 'reminder-1', priority: 0 }] });
    const job = await q.outbound.getJob(sendJobId('reminder-1'));
    expect(await job?.getState()).toBe('prioritized');
    expect(job?.opts.delay ?? 0).toBe(0);
    expect(direct).toEqual([]);
  });

  it('without a direct sender (the HTTP process), a reply job is not delayed', async () => {
    const q = queues();
    const sink = createSink(db, q, quietLogger);
    await sink({ ...noEffects(), sends: [{ id: 'reply-4', priority: 10 }] });
    const job = await q.outbound.getJob(sendJobId('reply-4'));
    expect(await job?.getState()).toBe('prioritized');
    expect(job?.opts.delay ?? 0).toBe(0);
  });
});
