/**
 * Checklist 80: BullMQ keeps job data in clear text in Redis. The hashes of a queued outbound
 * job (`send-<id>`, queued by the sink after the runner committed a reply), of a queued
 * inbound job (`in-<id>`, queued by the webhook's `ingest`) and of an activity lead's text
 * (`lead-<id>`, queued by `ingest` too) hold opaque ids only; and the real
 * Workers (`startWorkers`) apply JOB_RETENTION: completed jobs older than a day or beyond the
 * newest 10,000 are deleted, failed jobs older than 30 days are deleted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { ingest } from '../../src/http/sms/inbound.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import {
  closeQueues,
  createQueues,
  JOB_RETENTION,
  jobKey,
  type Queues,
} from '../../src/scheduler/queues.js';
import { inboundJob, inboundLeadJob } from '../../src/scheduler/reconciler.js';
import { createSink, sendJobId } from '../../src/scheduler/sink.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, useLogWatch, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('checklist 80: what a queued send-<id>, in-<id> and lead-<id> job keeps in Redis', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  let redis: Redis;
  let queues: Queues;
  let runner: Runner;

  beforeAll(async () => {
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    queues = createQueues(redis, prefix);
    const catalog = await loadCheckedCatalog('flows', 'locales');
    // No workers: the jobs stay queued, as they are between the commit and a worker.
    runner = createRunner({
      db: getDb(),
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now: () => new Date(),
      sink: createSink(getDb(), queues, logs.logger),
    });
  });
  afterAll(async () => {
    await Promise.all(
      Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
    );
    await closeQueues(queues);
    redis.disconnect();
  });

  it('80: the in-<id> and send-<id> hashes hold the message id only: no number, name or text', async () => {
    // A new number texts in, agrees, and gives a name: three inbound jobs, three replies.
    const phone = uniquePhone();
    const name = 'Zebedee';
    const texts = [`Hi, my number is ${phone}, I saw the walking group poster`, 'yes', name];
    const inIds: string[] = [];
    for (const [i, body] of texts.entries()) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const sms = {
        messageSid: sid,
        accountSid: `AC${'0'.repeat(32)}`,
        from: phone,
        to: '+447700900000',
        body,
        numSegments: 1,
        numMedia: 0,
        media: [],
        messagingServiceSid: null,
        fromCountry: 'GB',
        optOutType: null,
      } as unknown as Parameters<typeof ingest>[1];
      // The webhook's path: stored, then its job queued (in-<id>).
      const enqueueInbound = async (id: string) => {
        const job = inboundJob(id);
        await queues.inbound.add(job.name, job.data, job.opts);
      };
      expect(await ingest({ db: getDb(), enqueueInbound }, sms, logs.logger)).toBe('stored');
      const { rows } = await getDb().query<{ id: string }>(
        'SELECT id FROM messages WHERE provider_sid = $1',
        [sid],
      );
      inIds.push(rows[0]!.id);
      // The runner handles it (as the worker would), commits a reply; the sink queues send-<id>.
      await runner.handleInbound(rows[0]!.id);
      const { rows: out } = await getDb().query(
        `SELECT 1 FROM messages m JOIN participants p ON p.id = m.participant_id
         WHERE p.phone = $1 AND m.direction = 'out'`,
        [phone],
      );
      expect(out.length, `a reply to text ${i + 1}`).toBe(i + 1);
    }
    const { rows: who } = await getDb().query<{ id: string; first_name: string }>(
      'SELECT id, first_name FROM participants WHERE phone = $1',
      [phone],
    );
    // The name is stored: what must not be in Redis is in PostgreSQL.
    expect(who[0]!.first_name).toBe(name);
    const { rows: outRows } = await getDb().query<{ id: string; body: string }>(
      "SELECT id, body FROM messages WHERE direction = 'out' AND participant_id = $1",
      [who[0]!.id],
    );
    expect(outRows).toHaveLength(3);

    const forbidden = [
      phone,
      phone.replace(/^\+44/, ''),
      name,
      'walking group',
      who[0]!.id,
      ...outRows.map((r) => r.body.slice(0, 24)),
    ];
    const hashes = [
      ...inIds.map((id) => ({ key: jobKey(prefix, 'inbound', `in-${id}`), id })),
      ...outRows.map((r) => ({ key: jobKey(prefix, 'outbound', sendJobId(r.id)), id: r.id })),
    ];
    expect(hashes).toHaveLength(6);
    for (const { key, id } of hashes) {
      const hash = await redis.hgetall(key);
      expect(Object.keys(hash).length, `${key} exists`).toBeGreaterThan(0);
      expect(JSON.parse(hash.data!)).toEqual({ messageId: id });
      expect(id).toMatch(UUID);
      const everything = Object.entries(hash)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      for (const f of forbidden) expect(everything, `${key} holds ${f}`).not.toContain(f);
      // Retention comes from the Worker, not stored per job.
      expect(JSON.parse(hash.opts ?? '{}')).not.toHaveProperty('removeOnFail');
    }
  });

  it("80: a lead-<id> hash (an activity lead's text) holds the message id only: no number, name or text", async () => {
    // An activity whose lead texts from their phone: their texts are attendance replies.
    const lead = uniquePhone();
    const activity = `Knit and Natter ${randomBytes(3).toString('hex')}`;
    await getDb().query(
      `WITH a AS (INSERT INTO activities (name, location, lead_phone) VALUES ($1, 'Moss Side Library', $2) RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() - interval '2 hours', now() - interval '1 hour' FROM a`,
      [activity, lead],
    );
    const other = uniquePhone();
    const texts = [
      `All 6 came to ${activity} today except Margaret`,
      `Margaret's daughter says call her on ${other}, she is unwell`,
    ];
    const queued: { inbound: string[]; lead: string[] } = { inbound: [], lead: [] };
    const ids: string[] = [];
    for (const body of texts) {
      const sid = `SM${randomBytes(16).toString('hex')}`;
      const sms = {
        messageSid: sid,
        accountSid: `AC${'0'.repeat(32)}`,
        from: lead,
        to: '+447700900000',
        body,
        numSegments: 1,
        numMedia: 0,
        media: [],
        messagingServiceSid: null,
        fromCountry: 'GB',
        optOutType: null,
      } as unknown as Parameters<typeof ingest>[1];
      // The webhook's path: stored without a participant, then its lead job queued (lead-<id>).
      const deps = {
        db: getDb(),
        enqueueInbound: async (id: string) => {
          queued.inbound.push(id);
          const job = inboundJob(id);
          await queues.inbound.add(job.name, job.data, job.opts);
        },
        enqueueLead: async (id: string) => {
          queued.lead.push(id);
          const job = inboundLeadJob(id);
          await queues.inbound.add(job.name, job.data, job.opts);
        },
      };
      expect(await ingest(deps, sms, logs.logger)).toBe('stored');
      const { rows } = await getDb().query<{ id: string; participant_id: string | null }>(
        'SELECT id, participant_id FROM messages WHERE provider_sid = $1',
        [sid],
      );
      expect(rows[0]!.participant_id).toBeNull();
      ids.push(rows[0]!.id);
    }
    // Both went the lead's way, none as a participant's turn.
    expect(queued).toEqual({ inbound: [], lead: ids });

    const forbidden = [
      lead,
      lead.replace(/^\+/, ''),
      lead.replace(/^\+44/, ''),
      other,
      other.replace(/^\+44/, ''),
      activity,
      'Margaret',
      'Moss Side',
      'unwell',
      ...texts.map((t) => t.slice(0, 20)),
    ];
    for (const id of ids) {
      const key = jobKey(prefix, 'inbound', `lead-${id}`);
      const hash = await redis.hgetall(key);
      expect(Object.keys(hash).length, `${key} exists`).toBeGreaterThan(0);
      expect(hash.name).toBe(inboundLeadJob(id).name);
      expect(JSON.parse(hash.data!)).toEqual({ messageId: id });
      expect(id).toMatch(UUID);
      const everything = Object.entries(hash)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n');
      for (const f of forbidden) expect(everything, `${key} holds ${f}`).not.toContain(f);
      expect(JSON.parse(hash.opts ?? '{}')).not.toHaveProperty('removeOnFail');
    }
  });
});

describe('checklist 80: a real Worker applies JOB_RETENTION to finished jobs', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  const DAY_MS = 24 * 3600 * 1000;

  beforeAll(async () => {
    p = await startPipeline(getDb());
  });
  afterAll(async () => p.close());

  const key = (id: string) => jobKey(p.prefix, 'timers', id);
  const finished = async (id: string, state: 'completed' | 'failed') =>
    waitFor(async () => (await p.queues.timers.getJobState(id)) === state, 10_000);
  /** A timer job for no timer at all: the processor finds nothing to fire and completes it. */
  const noop = async (id: string) =>
    p.queues.timers.add('checkin', { itemId: randomUUID(), version: 1 }, { jobId: id });
  /** Malformed job data: UnrecoverableError, failed at once. */
  const malformed = async (id: string) => p.queues.timers.add('checkin', {}, { jobId: id });

  it('80: the policy is a day or 10,000 completed jobs, and at most 30 days for failed ones', () => {
    expect(JOB_RETENTION.removeOnComplete).toEqual({ age: 24 * 3600, count: 10_000 });
    expect(JOB_RETENTION.removeOnFail.age).toBeLessThanOrEqual(30 * 24 * 3600);
  });

  it('80: completed: one older than a day is deleted, and beyond the newest 10,000 the oldest goes', async () => {
    const completed = `${p.prefix}:timers:completed`;
    await noop('old');
    await noop('oldest-recent');
    await finished('old', 'completed');
    await finished('oldest-recent', 'completed');
    // As if `old` had finished a day and a minute ago, and `oldest-recent` an hour ago with
    // 9,999 more recent completions after it (ids only: their hashes do not matter here).
    const now = Date.now();
    await p.redis.zadd(completed, 'XX', now - DAY_MS - 60_000, 'old');
    await p.redis.zadd(completed, 'XX', now - 3_600_000, 'oldest-recent');
    const more: (string | number)[] = [];
    for (let i = 0; i < 9_999; i++) more.push(now - 3_000_000 + i, `recent-${i}`);
    await p.redis.zadd(completed, ...more);
    expect(await p.redis.zcard(completed)).toBe(10_001);
    expect(await p.redis.exists(key('old'), key('oldest-recent'))).toBe(2);

    // The Worker completes one more: it applies removeOnComplete (age, then count).
    await noop('new');
    await finished('new', 'completed');
    await waitFor(async () => (await p.redis.exists(key('old'))) === 0, 5_000);
    expect(await p.redis.exists(key('old'))).toBe(0);
    expect(await p.redis.exists(key('oldest-recent'))).toBe(0);
    expect(await p.redis.zscore(completed, 'old')).toBeNull();
    expect(await p.redis.zscore(completed, 'oldest-recent')).toBeNull();
    expect(await p.redis.zcard(completed)).toBe(10_000);
    expect(await p.redis.exists(key('new'))).toBe(1);
    expect(await p.redis.zscore(completed, 'recent-0')).not.toBeNull();
  });

  it('80: failed: one older than 30 days is deleted when the Worker fails another; a younger one stays', async () => {
    const failed = `${p.prefix}:timers:failed`;
    await malformed('fail-31d');
    await malformed('fail-29d');
    await finished('fail-31d', 'failed');
    await finished('fail-29d', 'failed');
    const now = Date.now();
    await p.redis.zadd(failed, 'XX', now - 31 * DAY_MS, 'fail-31d');
    await p.redis.zadd(failed, 'XX', now - 29 * DAY_MS, 'fail-29d');

    await malformed('fail-now');
    await finished('fail-now', 'failed');
    await waitFor(async () => (await p.redis.exists(key('fail-31d'))) === 0, 5_000);
    expect(await p.redis.zscore(failed, 'fail-31d')).toBeNull();
    expect(await p.redis.exists(key('fail-29d'), key('fail-now'))).toBe(2);
    expect((await p.queues.timers.getJob('fail-now'))?.failedReason).toBe('malformed job data');
  });
});
