import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeQueues, createQueues } from '../../../src/scheduler/queues.js';
import { reconcile } from '../../../src/scheduler/reconciler.js';
import type { Db } from '../../../src/store/db.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { count, inboundForm, smsApp } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/** The database port with every call held at a gate while `slow` is on (a stalled DB). */
function slowed(db: Db) {
  let release: () => void = () => undefined;
  let gate: Promise<void> | null = null;
  const wait = () => gate ?? Promise.resolve();
  const port: Db = {
    query: async (sql, params) => {
      await wait();
      return db.query(sql, params);
    },
    transaction: async (fn) => {
      await wait();
      return db.transaction(fn);
    },
    close: () => db.close(),
  } as Db;
  return {
    port,
    stall() {
      gate = new Promise((r) => {
        release = r;
      });
    },
    resume() {
      gate = null;
      release();
    },
  };
}

describe('POST /sms/inbound with a stalled database (checklist 12)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger } = capturedLogger('info');
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redis, prefix);
  let db: ReturnType<typeof slowed>;
  let t: ReturnType<typeof smsApp>;
  beforeAll(() => {
    db = slowed(getDb());
    t = smsApp(db.port, logger);
  });
  afterAll(async () => {
    db.resume();
    await t.app.close();
    await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
    await closeQueues(queues);
    redis.disconnect();
  });

  it('answers 503 within the bounded wait, loses nothing (the late write is queued), and Twilio’s retry does not duplicate', async () => {
    const phone = uniquePhone();
    const form = inboundForm(phone, 'hello');
    db.stall();
    const started = Date.now();
    const first = await t.post('/sms/inbound', form);
    // Generous: the bound is 1.5 s; a stalled database must never hold Twilio for 15 s.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(first.statusCode).toBe(503);
    expect(t.enqueued).toEqual([]);
    // The database comes back: the write that was waiting completes and is kept.
    db.resume();
    const stored = () => count(getDb(), 'messages WHERE provider_sid = $1', [form.MessageSid]);
    for (let i = 0; i < 100 && (await stored()) === 0; i += 1)
      await new Promise((r) => setTimeout(r, 50));
    expect(await stored()).toBe(1);
    // The write that landed after the 503 is queued then, once.
    const { rows: ids } = await getDb().query<{ id: string }>(
      'SELECT id FROM messages WHERE provider_sid = $1',
      [form.MessageSid],
    );
    for (let i = 0; i < 100 && t.enqueued.length === 0; i += 1)
      await new Promise((r) => setTimeout(r, 20));
    expect(t.enqueued).toEqual([ids[0]!.id]);
    // Twilio retries the same MessageSid: 200, still one message, not queued again.
    const retry = await t.post('/sms/inbound', form);
    expect(retry.statusCode).toBe(200);
    expect(await stored()).toBe(1);
    expect(t.enqueued).toEqual([ids[0]!.id]);
    // Had that enqueue been lost too, the reconciler queues it, once.
    const later = new Date(Date.now() + 10 * 60_000);
    await reconcile(getDb(), redis, queues, prefix, later, logger);
    await reconcile(getDb(), redis, queues, prefix, later, logger);
    const { rows } = await getDb().query<{ id: string }>(
      'SELECT id FROM messages WHERE provider_sid = $1',
      [form.MessageSid],
    );
    expect(await queues.inbound.getJob(`in-${rows[0]!.id}`)).toBeDefined();
    expect(await queues.inbound.count()).toBe(1);
  });
});
