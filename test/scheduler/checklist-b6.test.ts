/**
 * Reliability checklist B6 at the Redis level: deterministic reminder job ids (64), a
 * cancelled session's reminder job (67) and the outbound queue's retry policy (75).
 */
import { Backoffs, type Job, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioGateway } from '../../src/channels/sms/gateway.js';
import { createSmsSender, type SmsSender } from '../../src/channels/sms/sender.js';
import { jobEffects } from '../../src/domain/booking/changes.js';
import { registerAdminRoutes } from '../../src/http/admin/index.js';
import { type App, buildServer } from '../../src/http/server.js';
import { noEffects } from '../../src/runner/effects.js';
import { startTwilioFake, type TwilioFake } from '../../src/sandbox/twilio/index.js';
import { JOB_DEFAULTS, type Queues } from '../../src/scheduler/queues.js';
import { enqueueItems } from '../../src/scheduler/sink.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import type { ScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { twilioConfig } from '../channels/sms/fixtures.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { startGuardedPipelineWith } from '../support/guarded.js';
import { type Pipeline, startPipeline, useLogWatch, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

const TOKEN = 'test-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };
/**
 * The clock of the admin API, the sink and the workers: Sunday 09:30 in London. A Monday
 * 10:00 session's day-before reminder (10:00 today) is due in 30 minutes: inside the sink's
 * one-hour horizon, so booking it queues a delayed job at once.
 */
const NOW = new Date('2026-03-01T09:30:00Z');

describe('checklist 64 and 67: reminder jobs in Redis through the admin API and its afterCommit sink', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let p: Pipeline;
  let app: App;
  let clock = NOW;

  beforeAll(async () => {
    p = await startPipeline(getDb(), undefined, () => clock);
    app = buildServer({ logger: logs.logger, checks: {} });
    // As src/http/routes.ts wires it: after each commit the sink enqueues and removes jobs.
    registerAdminRoutes(app, {
      db: getDb(),
      config: { adminToken: TOKEN },
      now: () => clock,
      afterCommit: [(changes) => p.sink({ ...noEffects(), ...jobEffects(changes) })],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await p.close();
  });

  const post = (url: string, payload: object = {}) =>
    app.inject({ method: 'POST', url, headers: auth, payload });

  /** An activity with one session (Monday 10:00) and a consenting participant booked on it. */
  async function bookedSession(key: string) {
    const made = await post('/admin/activities', {
      key,
      name: 'Walking football',
      location: 'Moss Side Leisure Centre',
      capacity: 5,
      series: {
        start_date: '2026-03-02',
        end_date: '2026-03-02',
        weekly: { days: ['mon'], time: '10:00', duration_minutes: 90 },
      },
    });
    expect(made.statusCode).toBe(201);
    const sessionId: string = made.json().sessions[0].id;
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), {
      phone,
      quietStart: '00:00',
      quietEnd: '00:00',
    });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    const booked = await post('/admin/bookings', { participant_id: who.id, session_id: sessionId });
    expect(booked.statusCode).toBe(201);
    const item = await dayBefore(sessionId);
    expect(item.dueAt.toISOString()).toBe('2026-03-01T10:00:00.000Z');
    return { sessionId, participantId: who.id, phone, item };
  }

  async function dayBefore(sessionId: string): Promise<ScheduledItem> {
    const { rows } = await getDb().query<ScheduledItem>(
      `SELECT id, kind, due_at AS "dueAt", version, state, skip_reason AS "skipReason",
              job_id AS "jobId"
       FROM scheduled_items WHERE session_id = $1 AND kind = 'reminder_day_before'`,
      [sessionId],
    );
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  it('64: the same reminder scheduled twice (a retried hook, a second enqueue, a repeated booking) is one delayed job with one id, and BullMQ reports the duplicate', async () => {
    const b = await bookedSession('dedupe-club');
    const q = p.queues.reminders;
    expect(await q.getDelayedCount()).toBe(1);
    const first = await q.getJob(b.item.jobId);
    expect(await first?.getState()).toBe('delayed');
    expect(first?.data).toEqual({ itemId: b.item.id, version: b.item.version });
    // BullMQ's own event stream, read from its start so no event can be missed.
    const events = new QueueEvents('reminders', {
      connection: redisOpts(p.redis),
      prefix: p.prefix,
      lastEventId: '0',
    });
    const duplicated: string[] = [];
    events.on('duplicated', ({ jobId }) => void duplicated.push(jobId));
    try {
      await events.waitUntilReady();
      // Scheduled again: the after-commit hook retried, and the reconciler's enqueue.
      const again = { ...b.item, state: 'pending' as const };
      await p.sink({ ...noEffects(), items: [again] });
      await enqueueItems(getDb(), p.queues, [again], clock);
      // A retried API call: the booking exists, so nothing changes and nothing is queued.
      const repeat = await post('/admin/bookings', {
        participant_id: b.participantId,
        session_id: b.sessionId,
      });
      expect(repeat.statusCode).toBe(200);
      expect(repeat.json().bookings[0].created).toBe(false);
      expect(await q.getDelayedCount()).toBe(1);
      const delayed = await q.getDelayed();
      expect(delayed.map((j) => j.id)).toEqual([b.item.jobId]);
      // The original job, untouched (not replaced by a later add).
      expect(delayed[0]!.timestamp).toBe(first!.timestamp);
      await waitFor(() => duplicated.length >= 2, 5_000);
      expect(duplicated).toEqual([b.item.jobId, b.item.jobId]);
    } finally {
      await events.close();
    }
  });

  it('67: cancelling a session through the admin API removes its delayed reminder job; the item is cancelled (session_cancelled); the job re-added by hand sends nothing', async () => {
    const b = await bookedSession('cancel-club');
    const q = p.queues.reminders;
    expect(await (await q.getJob(b.item.jobId))?.getState()).toBe('delayed');
    const res = await post(`/admin/sessions/${b.sessionId}/cancel`, { reason: 'venue_closed' });
    expect(res.statusCode).toBe(200);
    expect(res.json().session).toMatchObject({ status: 'cancelled' });
    expect(await q.getJob(b.item.jobId)).toBeUndefined();
    expect(await dayBefore(b.sessionId)).toMatchObject({
      state: 'cancelled',
      skipReason: 'session_cancelled',
      version: b.item.version,
    });
    // It fires anyway (a job already taken, or re-added by hand), after its due time.
    clock = new Date('2026-03-01T10:01:00Z');
    const job = await q.add(
      'reminder_day_before',
      { itemId: b.item.id, version: b.item.version },
      {
        jobId: b.item.jobId,
      },
    );
    expect(await finished(job)).toEqual({ state: 'completed', returned: 'stale' });
    await new Promise((r) => setTimeout(r, 300));
    expect(p.gateway.to(b.phone)).toEqual([]);
    const sent = await getDb().query('SELECT 1 FROM messages WHERE participant_id = $1', [
      b.participantId,
    ]);
    expect(sent.rowCount).toBe(0);
  });

  it('67: a cancel racing its job (the item still pending on a cancelled session): the runner skips it as session_cancelled and sends nothing', async () => {
    clock = NOW;
    const b = await bookedSession('race-club');
    const q = p.queues.reminders;
    const job = await q.getJob(b.item.jobId);
    expect(await job?.getState()).toBe('delayed');
    // The session is cancelled while the job is already in hand: its item is not yet touched.
    await getDb().query("UPDATE sessions SET status = 'cancelled' WHERE id = $1", [b.sessionId]);
    clock = new Date('2026-03-01T10:01:00Z');
    await job!.promote();
    expect(await finished(job!)).toEqual({ state: 'completed', returned: 'skipped' });
    expect(await dayBefore(b.sessionId)).toMatchObject({
      state: 'skipped',
      skipReason: 'session_cancelled',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(p.gateway.to(b.phone)).toEqual([]);
  });

  async function finished(job: Job): Promise<{ state: string; returned: unknown }> {
    const q = p.queues.reminders;
    let state = '';
    await waitFor(async () => {
      state = await q.getJobState(job.id!);
      return state === 'completed' || state === 'failed';
    }, 15_000);
    return { state, returned: (await q.getJob(job.id!))?.returnvalue };
  }
});

function redisOpts(r: Redis) {
  return { host: r.options.host, port: r.options.port, maxRetriesPerRequest: null };
}

describe('checklist 75: the outbound queue retry policy, against the local Twilio', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let fake: TwilioFake;
  let sender: SmsSender;
  let p: Awaited<ReturnType<typeof startGuardedPipelineWith>>;
  let queues: Queues;
  /** The send's `To` as the gateway saw it, and when each provider call was made. */
  const calls: { to: string; at: number }[] = [];
  /** Numbers whose sends the fake's own 21211 number stands in for (see below). */
  const refusedByTwilio = new Set<string>();

  beforeAll(async () => {
    fake = await startTwilioFake({
      accountSid: twilioConfig('').accountSid,
      authToken: twilioConfig('').authToken,
      statusCallbacks: false,
    });
    const real = createSmsSender(twilioConfig(fake.url), { logger: logs.logger });
    // The gateway refuses non-UK-mobile numbers before Twilio (number-type.ts), so a number
    // Twilio itself refuses with 21211 is reached this way: the participant's UK mobile
    // passes the gateway's check, and the request goes to the fake's invalid-To number.
    sender = {
      send: (req) => {
        calls.push({ to: req.to, at: Date.now() });
        return real.send(refusedByTwilio.has(req.to) ? { ...req, to: '+15005550001' } : req);
      },
      reconcile: (req) => real.reconcile(req),
      close: () => real.close(),
    };
    // The gateway as src/main.ts composes it, behind the send guard (its pacer left open: as
    // without a pacer, SMS_RATE 0).
    p = await startGuardedPipelineWith(
      getDb(),
      twilioGateway(sender, { publicUrl: 'https://linkline.example.org' }),
    );
    queues = p.queues;
  });
  afterAll(async () => {
    await p.close();
    sender.close();
    await fake.stop();
  });

  /** A consenting participant's reminder, queued as the sink queues it (production opts). */
  async function queued(phone: string): Promise<string> {
    const who = await createParticipant(getDb(), { phone });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    return p.queueMessage(who.id, phone);
  }

  const finished = (messageId: string) => p.finished(messageId);

  it('75: a queued send-<id> job carries the production policy: 8 attempts, exponential backoff from 1 s with 50% jitter', async () => {
    expect(JOB_DEFAULTS).toEqual({
      attempts: 8,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    });
    const id = await queued(uniquePhone());
    expect((await finished(id)).message.status).toBe('sent');
    // The options stored in the job's own hash: what BullMQ retries by.
    const admin = new Redis('redis://127.0.0.1:6379');
    const hash = await admin.hgetall(`${queues.outbound.opts.prefix}:outbound:send-${id}`);
    admin.disconnect();
    const opts = JSON.parse(hash.opts ?? '{}');
    expect(opts).toMatchObject({
      attempts: 8,
      backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
    });
    const job = (await queues.outbound.getJob(`send-${id}`))!;
    expect(job.opts.attempts).toBe(8);
    // What BullMQ waits before each retry with these options: each step's range doubles
    // (500-1000 ms, 1-2 s, ... 32-64 s) and within it the wait is random (jitter).
    const backoff = Backoffs.normalize(job.opts.backoff!)!;
    for (let made = 1; made < 8; made++) {
      const ceiling = 1_000 * 2 ** (made - 1);
      const waits = await Promise.all(
        Array.from({ length: 50 }, () =>
          Backoffs.calculate(backoff, made, new Error('503'), job as never),
        ),
      );
      for (const w of waits) {
        expect(w).toBeGreaterThanOrEqual(ceiling / 2);
        expect(w).toBeLessThan(ceiling);
      }
      expect(new Set(waits).size).toBeGreaterThan(1);
    }
  });

  it('75: a 503 twice is retried by the queue after growing waits (at least 0.5 s, then at least 1 s), then sent once', async () => {
    const phone = uniquePhone();
    fake.inject({ kind: '503', times: 2, match: { to: phone } });
    const id = await queued(phone);
    const done = await finished(id);
    expect(done.state).toBe('completed');
    expect(done.message.status).toBe('sent');
    const at = calls.filter((c) => c.to === phone).map((c) => c.at);
    expect(at).toHaveLength(3);
    expect(fake.messages().filter((m) => m.to === phone)).toHaveLength(1);
    const [gap1, gap2] = [at[1]! - at[0]!, at[2]! - at[1]!];
    // Lower bounds only: how soon a worker picks a due retry up depends on the machine's load
    // (the exact waits are the stored policy's, checked in the test above).
    expect(gap1).toBeGreaterThanOrEqual(500);
    expect(gap2).toBeGreaterThanOrEqual(1_000);
  }, 20_000);

  it('75: a permanent Twilio refusal (21211) is not retried: one call to Twilio, the job done, the message failed with the code', async () => {
    const phone = uniquePhone();
    refusedByTwilio.add(phone);
    const before = fake.requests().length;
    const id = await queued(phone);
    const done = await finished(id);
    // Longer than the first retry could wait (at most 1 s): no second attempt comes.
    await new Promise((r) => setTimeout(r, 1_500));
    expect(calls.filter((c) => c.to === phone)).toHaveLength(1);
    expect(
      fake
        .requests()
        .slice(before)
        .filter((r) => r.op === 'create'),
    ).toHaveLength(1);
    expect(done.state).toBe('completed');
    expect(await queues.outbound.getJobState(`send-${id}`)).toBe('completed');
    expect(done.job.attemptsStarted).toBe(1);
    expect(done.message).toMatchObject({ status: 'failed', error_code: '21211' });
  });
});
