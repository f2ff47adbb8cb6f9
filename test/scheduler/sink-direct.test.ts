import { describe, expect, it } from 'vitest';
import { noEffects } from '../../src/runner/effects.js';
import type { Queues } from '../../src/scheduler/queues.js';
import { createSink } from '../../src/scheduler/sink.js';
import type { Db } from '../../src/store/db.js';
import { quietLogger } from '../support/pipeline.js';

/** Queues that record what was added to the outbound queue, or refuse it (Redis down). */
function recordingQueues(log: string[], down = false): Queues {
  const outbound = {
    addBulk: async (jobs: { data: { messageId: string } }[]) => {
      if (down) throw new Error('connection refused');
      for (const j of jobs) log.push(`job ${j.data.messageId}`);
      return [];
    },
  };
  return { outbound } as unknown as Queues;
}

const db = {} as Db;

describe('the sink sends replies at once, after queueing their jobs', () => {
  it('a reply is sent directly once its job is queued; a reminder is left to its job', async () => {
    const log: string[] = [];
    const sink = createSink(db, recordingQueues(log), quietLogger, undefined, 3_000, async (id) => {
      log.push(`direct ${id}`);
    });
    await sink({
      ...noEffects(),
      sends: [
        { id: 'reply-1', priority: 10 },
        { id: 'reminder-1', priority: 0 },
      ],
    });
    expect(log).toEqual(['job reply-1', 'job reminder-1', 'direct reply-1']);
  });

  it('a failed direct attempt is only logged: the job stays to send it', async () => {
    const log: string[] = [];
    const sink = createSink(db, recordingQueues(log), quietLogger, undefined, 3_000, async () => {
      throw new Error('an earlier message is still being sent');
    });
    await expect(sink({ ...noEffects(), sends: [{ id: 'reply-1', priority: 10 }] })).resolves.toBe(
      undefined,
    );
    expect(log).toEqual(['job reply-1']);
  });

  it('Redis down: no job and no direct send (the reconciler queues the job later)', async () => {
    const log: string[] = [];
    const sink = createSink(
      db,
      recordingQueues(log, true),
      quietLogger,
      undefined,
      3_000,
      async (id) => {
        log.push(`direct ${id}`);
      },
    );
    await sink({ ...noEffects(), sends: [{ id: 'reply-1', priority: 10 }] });
    expect(log).toEqual([]);
  });
});
