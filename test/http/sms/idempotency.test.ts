import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDb } from '../../../src/store/db.js';
import { drivers, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { count, inboundForm, smsApp, storedFor } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('POST /sms/inbound: duplicates, replays and outages (checklist 13-15, 22)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger, output } = capturedLogger('trace');
  let t: ReturnType<typeof smsApp>;
  beforeAll(() => {
    t = smsApp(getDb(), logger);
  });
  afterAll(async () => t.app.close());

  it('13: the same MessageSid twice: both 200, one message, one job', async () => {
    const phone = uniquePhone();
    const params = inboundForm(phone, 'yes');
    const first = await t.post('/sms/inbound', params);
    const second = await t.post('/sms/inbound', params);
    expect([first.statusCode, second.statusCode]).toEqual([200, 200]);
    expect(second.body).toContain('<Response/>');
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    const { rows } = await getDb().query<{ id: string }>(
      'SELECT id FROM messages WHERE address = $1',
      [phone],
    );
    expect(t.enqueued.filter((id) => id === rows[0]?.id)).toHaveLength(1);
  });

  it('14: ten concurrent copies of a first message from a new number: one message, one participant, one job', async () => {
    const phone = uniquePhone();
    const params = inboundForm(phone, 'hello');
    const before = t.enqueued.length;
    const all = await Promise.all(Array.from({ length: 10 }, () => t.post('/sms/inbound', params)));
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    expect(t.enqueued.length - before).toBe(1);
  });

  it('15: a replay after the message was handled is still not reprocessed', async () => {
    const phone = uniquePhone();
    const params = inboundForm(phone, 'hello');
    await t.post('/sms/inbound', params);
    await getDb().query('UPDATE messages SET processed_at = now() WHERE address = $1', [phone]);
    const before = t.enqueued.length;
    const replay = await t.post('/sms/inbound', params);
    expect(replay.statusCode).toBe(200);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    expect(t.enqueued.length).toBe(before);
  });

  it('22: the fallback keeps the raw signed form and accepts the message, once', async () => {
    const phone = uniquePhone();
    const params = inboundForm(phone, 'sent while the main endpoint was down');
    const before = t.enqueued.length;
    const results = await Promise.all([
      t.post('/sms/fallback', params),
      t.post('/sms/fallback', params),
      t.post('/sms/fallback', params),
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200, 200]);
    const raw = await getDb().query<{
      form: Record<string, string>;
      url: string;
      signature: string;
      processed: boolean;
    }>('SELECT form, url, signature, processed FROM inbound_raw WHERE provider_sid = $1', [
      params.MessageSid,
    ]);
    expect(raw.rows).toHaveLength(1);
    expect(raw.rows[0]).toMatchObject({
      form: params,
      url: 'https://linkline.example.org/sms/fallback',
      processed: true,
    });
    expect(raw.rows[0]?.signature.length).toBeGreaterThan(20);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    expect(t.enqueued.length - before).toBe(1);
    // The main endpoint getting it too (Twilio's retry) changes nothing.
    expect((await t.post('/sms/inbound', params)).statusCode).toBe(200);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
  });

  it('22: the fallback refuses a forged request and stores nothing', async () => {
    const phone = uniquePhone();
    const params = inboundForm(phone, 'forged');
    const res = await t.post('/sms/fallback', params, { token: 'not-the-token-0123456789' });
    expect(res.statusCode).toBe(403);
    expect(await count(getDb(), 'inbound_raw WHERE provider_sid = $1', [params.MessageSid])).toBe(
      0,
    );
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('Redis unreachable (enqueue hangs): still 200 within about a second, and the message is recorded', async () => {
    const hanging = smsApp(getDb(), logger, {
      enqueueInbound: () => new Promise<void>(() => {}),
      enqueueTimeoutMs: 300,
    });
    try {
      const phone = uniquePhone();
      const started = Date.now();
      const res = await hanging.post('/sms/inbound', inboundForm(phone, 'hello'));
      expect(res.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
      expect(output()).toContain('inbound enqueue failed');
    } finally {
      await hanging.app.close();
    }
  });

  it('Redis unreachable (a real BullMQ queue on a closed port): 200 and recorded', async () => {
    const redis = new Redis('redis://127.0.0.1:1', {
      maxRetriesPerRequest: null,
      lazyConnect: true,
      retryStrategy: () => 200,
    });
    redis.on('error', () => {});
    const queue = new Queue('inbound', { connection: redis, prefix: 'lltest-down' });
    queue.on('error', () => {});
    const down = smsApp(getDb(), logger, {
      enqueueInbound: async (id) => {
        await queue.add('inbound', { messageId: id }, { jobId: `in-${id}` });
      },
    });
    try {
      const phone = uniquePhone();
      const started = Date.now();
      const res = await down.post('/sms/inbound', inboundForm(phone, 'hello'));
      expect(res.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    } finally {
      await down.app.close();
      redis.disconnect();
    }
  });

  it('enqueue rejecting (71: Redis at maxmemory): still 200 and recorded, alerted and counted', async () => {
    let counted = 0;
    const failing = smsApp(getDb(), logger, {
      enqueueInbound: async () => {
        throw new Error('OOM command not allowed');
      },
      countEnqueueFailure: () => {
        counted += 1;
      },
    });
    try {
      const phone = uniquePhone();
      expect((await failing.post('/sms/inbound', inboundForm(phone, 'hi'))).statusCode).toBe(200);
      expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
      expect(counted).toBe(1);
      const line = output()
        .split('\n')
        .find((l) => l.includes('inbound enqueue failed') && l.includes('OOM'));
      expect(JSON.parse(line!)).toMatchObject({ alert: 'enqueue_failed' });
    } finally {
      await failing.app.close();
    }
  });
});

describe('POST /sms/inbound with the database down', () => {
  it('answers 503 (so Twilio retries or falls back) and enqueues nothing', async () => {
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, max: 2 });
    const { logger, output } = capturedLogger('trace');
    const t = smsApp(db, logger);
    try {
      await db.close();
      const phone = uniquePhone();
      const res = await t.post('/sms/inbound', inboundForm(phone, 'hello'));
      expect(res.statusCode).toBe(503);
      expect(res.body).toBe('Service Unavailable');
      expect(t.enqueued).toEqual([]);
      const fallback = await t.post('/sms/fallback', inboundForm(phone, 'hello'));
      expect(fallback.statusCode).toBe(503);
      expect(output()).not.toContain(phone);
    } finally {
      await t.app.close();
    }
  });
});
