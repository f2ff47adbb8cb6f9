import { randomBytes } from 'node:crypto';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SendOutcome, SmsGateway } from '../../src/runner/outbound.js';
import type { Runner } from '../../src/runner/runner.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { processors } from '../../src/scheduler/workers.js';
import { getMessage, insertOutbound } from '../../src/store/repos/messages.js';
import { createParticipant } from '../../src/store/repos/participants.js';
import { drivers, sleep, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch, waitFor } from '../support/pipeline.js';

const driver = drivers.find((d) => d.name === 'pg')!;

/**
 * Checklist 44: SMS keeps no order, so a participant's messages leave one after the other in
 * the order they were written (WaitTurn in src/runner/outbound.ts): a message waits while an
 * earlier one to the same person is queued or still being sent. Two workers, one outbound
 * slot each, on one queue; the provider holds the first send until the test lets it go.
 */
describe("a participant's outbound messages leave in the order written (checklist 44)", () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const connections: Redis[] = [];
  const workers: Worker[] = [];
  let queues: Queues;
  /** Which worker had which job active, in order. */
  const active: [string, string][] = [];
  const started: string[] = [];
  let release: (() => void) | null = null;

  /** Records each provider call; the first message's call waits for `release`. */
  const gateway: SmsGateway = {
    send: async (m) => {
      started.push(m.ourId);
      if (started.length === 1) await new Promise<void>((r) => (release = r));
      return { kind: 'sent', sid: `SM${randomBytes(16).toString('hex')}` } as SendOutcome;
    },
    reconcile: async () => null,
  };

  beforeAll(async () => {
    const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    connections.push(redis);
    queues = createQueues(redis, prefix);
    const outbound = processors({
      db: getDb(),
      redis,
      queues,
      prefix,
      runner: {} as Runner,
      gateway,
      logger: logs.logger,
    }).outbound;
    for (const name of ['A', 'B']) {
      const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
      connections.push(connection);
      const w = new Worker('outbound', outbound, { connection, prefix, concurrency: 1 });
      w.on('active', (job) => active.push([name, job.id ?? '']));
      workers.push(w);
    }
  });
  afterAll(async () => {
    release?.();
    await Promise.all(workers.map((w) => w.close()));
    await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
    await closeQueues(queues);
    for (const c of connections) c.disconnect();
  });

  const enqueue = (id: string) =>
    queues.outbound.add('send', { messageId: id }, { jobId: `send-${id}` });

  it('44: the second message picked up first, and by the other worker while the first is sending, still leaves second', async () => {
    const db = getDb();
    const who = await createParticipant(db, { phone: uniquePhone() });
    const write = async (body: string) =>
      (
        await insertOutbound(db, {
          channel: 'sms',
          participantId: who.id,
          address: who.phone,
          body,
          kind: 'conversation',
        })
      ).message.id;
    const first = await write('Thanks. What is your first name?');
    const second = await write('Reply with your name, or STOP.');
    // The second message's job is the one picked up first: it must wait its turn.
    await enqueue(second);
    await waitFor(() => active.some(([, job]) => job === `send-${second}`));
    await sleep(500);
    expect(started).toEqual([]);
    // Held back and tried again (every 200 ms), without using up an attempt.
    expect(active.filter(([, job]) => job === `send-${second}`).length).toBeGreaterThanOrEqual(2);
    expect((await queues.outbound.getJob(`send-${second}`))?.attemptsMade).toBe(0);
    // Now the first: one worker is inside the provider call with it (its only slot)...
    await enqueue(first);
    await waitFor(() => started.length === 1);
    expect(started).toEqual([first]);
    const holder = active.find(([, job]) => job === `send-${first}`)![0];
    // ...while the other worker picks the second up again, and still holds it back.
    const seenBefore = active.length;
    await waitFor(() =>
      active.slice(seenBefore).some(([w, job]) => job === `send-${second}` && w !== holder),
    );
    await sleep(300);
    expect(started).toEqual([first]);
    expect((await getMessage(db, second))?.status).toBe('queued');
    release!();
    await waitFor(() => started.length === 2);
    expect(started).toEqual([first, second]);
    await waitFor(async () => (await getMessage(db, second))?.status === 'sent');
    expect((await getMessage(db, first))?.status).toBe('sent');
    // Each message went to the provider once.
    await sleep(500);
    expect(started).toEqual([first, second]);
  });
});
