import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import { SANDBOX_TWILIO } from '../../../src/main.js';
import { acceptInbound } from '../../../src/runner/accept-inbound.js';
import { noEffects } from '../../../src/runner/effects.js';
import { defaultRules } from '../../../src/runner/rules/index.js';
import { createRunner } from '../../../src/runner/runner.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../../src/scheduler/queues.js';
import { createSink } from '../../../src/scheduler/sink.js';
import { startWorkers } from '../../../src/scheduler/workers.js';
import { createParticipant, setConsent } from '../../../src/store/repos/participants.js';
import {
  type ScheduledItem,
  type ScheduleInput,
  upsertScheduledItem,
} from '../../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { useLogWatch, waitFor } from '../../support/pipeline.js';
import { localTwilioGateway } from '../../support/stall-worker.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/** The safety message as config/safety.yaml and the English locale make it. */
const SAFETY = /^If you are in danger now, call 999\./;

/**
 * Checklist 82 (c): after a real crisis text (the crisis rule opens an urgent hand-off), a
 * reminder and a journey timer of the same participant that were already pending fire and are
 * skipped as `handed_off`; the local Twilio receives the safety message and nothing else.
 * The real runner, global rules, sink, BullMQ workers and Twilio SDK against the local Twilio.
 */
describe('crisis, then a pending reminder or journey timer fires (checklist 82 c)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let fake: TwilioFake;
  let queues: Queues;
  let redis: Redis;
  let twilio: ReturnType<typeof localTwilioGateway>;
  let sink: ReturnType<typeof createSink>;
  let workers: Awaited<ReturnType<typeof startWorkers>>;
  const tag = randomBytes(8).toString('hex');
  let sidN = 0;

  beforeAll(async () => {
    const db = getDb();
    const catalog = await loadCheckedCatalog('flows', 'locales');
    fake = await startTwilioFake({
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: SANDBOX_TWILIO.authToken,
      statusCallbacks: false,
    });
    twilio = localTwilioGateway(fake.url, logs.logger);
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const prefix = `lltest-${randomBytes(4).toString('hex')}`;
    queues = createQueues(redis, prefix);
    const now = () => new Date();
    sink = createSink(db, queues, logs.logger, now);
    const runner = createRunner({
      db,
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now,
      sink,
      rules: defaultRules({
        locales: catalog.locales,
        defaultLang: 'en',
        flows: catalog.flows,
        logger: logs.logger,
        now,
      }),
    });
    workers = await startWorkers({
      db,
      redis,
      queues,
      prefix,
      runner,
      gateway: twilio.gateway,
      logger: logs.logger,
    });
  }, 30_000);

  afterAll(async () => {
    await workers?.close();
    if (queues) {
      await Promise.all(
        Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
      );
      await closeQueues(queues);
    }
    redis?.disconnect();
    twilio?.close();
    await fake?.stop();
  });

  const smsTo = (phone: string) => fake.messages().filter((m) => m.to === phone);

  const item = async (id: string) =>
    (
      await getDb().query<{ state: string; skip_reason: string | null }>(
        'SELECT state, skip_reason FROM scheduled_items WHERE id = $1',
        [id],
      )
    ).rows[0];

  it('a day-before reminder and a week-6 check-in pending at the crisis are skipped as handed_off; no SMS but the safety message', async () => {
    const db = getDb();
    const phone = uniquePhone();
    // A consenting participant with no quiet hours and a booked session in three hours: until
    // the crisis, nothing stops either timer (reminderBlocked, booking, quiet hours).
    const who = await createParticipant(db, { phone, quietStart: '00:00', quietEnd: '00:00' });
    await setConsent(db, who.id, 'given', { actor: 'admin:test' });
    const { rows: s } = await db.query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Walking Football', 'Stretford Hall') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() + interval '3 hours', now() + interval '4 hours' FROM a RETURNING id`,
    );
    const sessionId = s[0]!.id;
    const { rows: b } = await db.query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [who.id, sessionId],
    );
    const bookingId = b[0]!.id;
    const far = new Date(Date.now() + 3_600_000);
    const inputs: ScheduleInput[] = [
      { kind: 'reminder_day_before', participantId: who.id, bookingId, sessionId, dueAt: far },
      {
        kind: 'checkin',
        participantId: who.id,
        slot: 'week_6',
        dueAt: far,
        payload: { flow: 'checkin_ons4', weeks: 6 },
      },
    ];
    // Pending, with their delayed jobs in the queue, before the participant writes.
    const pending: ScheduledItem[] = [];
    for (const input of inputs) pending.push((await upsertScheduledItem(db, input)).item);
    await sink({ ...noEffects(), items: pending });
    for (const p of pending)
      expect(await item(p.id)).toEqual({ state: 'enqueued', skip_reason: null });

    // The real crisis text, through the inbound queue as the webhook queues it.
    sidN += 1;
    const r = await acceptInbound(db, {
      sid: `SM${tag}${String(sidN).padStart(16, '0')}`,
      from: phone,
      body: "I can't go on, I want to end it all",
      numMedia: 0,
      segments: 1,
    });
    await queues.inbound.add('inbound', { messageId: r.messageId }, { jobId: `in-${r.messageId}` });
    await waitFor(() => smsTo(phone).length >= 1);
    expect(smsTo(phone)[0]?.body).toMatch(SAFETY);
    const { rows: h } = await db.query<{ reason: string; urgency: string; status: string }>(
      'SELECT reason, urgency, status FROM handoffs WHERE participant_id = $1',
      [who.id],
    );
    expect(h).toEqual([{ reason: 'crisis', urgency: 'urgent', status: 'open' }]);
    // Still waiting after the crisis: they fire only now.
    for (const p of pending) expect((await item(p.id))?.state).toBe('enqueued');

    // Their time comes: the same rows, due now (a new version), through the sink's enqueue.
    const due: ScheduledItem[] = [];
    for (const input of inputs)
      due.push((await upsertScheduledItem(db, { ...input, dueAt: new Date() })).item);
    expect(due.map((d) => d.id)).toEqual(pending.map((p) => p.id));
    await sink({ ...noEffects(), items: due });
    await waitFor(async () => {
      for (const d of due)
        if (['pending', 'enqueued'].includes((await item(d.id))?.state ?? '')) return false;
      return true;
    });
    for (const d of due)
      expect(await item(d.id)).toEqual({ state: 'skipped', skip_reason: 'handed_off' });

    // Nothing else reaches Twilio for this number: no reminder, no check-in question.
    await new Promise((res) => setTimeout(res, 1_000));
    expect(smsTo(phone)).toHaveLength(1);
    const { rows: out } = await db.query<{ kind: string }>(
      `SELECT kind FROM messages WHERE participant_id = $1 AND direction = 'out'`,
      [who.id],
    );
    expect(out).toHaveLength(1);
  }, 30_000);
});
