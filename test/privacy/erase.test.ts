import { DateTime } from 'luxon';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { outboxClient } from '../../src/channels/slack/client.js';
import { createOutbox, type Outbox } from '../../src/channels/slack/outbox.js';
import { registerAdminRoutes } from '../../src/http/admin/index.js';
import type { PrivacyDeps } from '../../src/http/admin/privacy-routes.js';
import { type App, buildServer } from '../../src/http/server.js';
import { computeReport } from '../../src/reports/figures.js';
import { periodOf } from '../../src/reports/period.js';
import { createSendGuard } from '../../src/runner/send-guard.js';
import { type SlackFake, startSlackFake } from '../../src/sandbox/slack/index.js';
import type { Db } from '../../src/store/db.js';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';
import { columnsHolding, HANDOFFS, needles, seedPerson } from './seed.js';

// Checklist 88: erasure through the admin API reaches every table, the queues and Slack.

const TOKEN = 'privacy-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

async function adminApp(db: Db, privacy?: PrivacyDeps) {
  const captured = capturedLogger('info');
  const app = buildServer({ logger: captured.logger, checks: {} });
  registerAdminRoutes(app, {
    db,
    config: { adminToken: TOKEN },
    ...(privacy ? { privacy } : {}),
  });
  await app.ready();
  return { app, logs: captured.output };
}

const erase = (app: App, ref: string, body?: unknown, headers: Record<string, string> = auth) =>
  app.inject({
    method: 'POST',
    url: `/admin/participants/${ref}/erase`,
    headers,
    ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
  });

describe.each(drivers)('POST /admin/participants/:ref/erase ($name)', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  let fake: SlackFake;
  let outbox: Outbox;
  let app: App;
  let logs: () => string;
  const leadPhone = uniquePhone();

  beforeAll(async () => {
    fake = await startSlackFake();
    const captured = capturedLogger('info');
    outbox = createOutbox({
      db: getDb(),
      client: outboxClient({
        token: fake.botToken,
        apiUrl: fake.apiUrl,
        timeoutMs: 2000,
        logger: captured.logger,
      }),
      logger: captured.logger,
      // Rows are stamped with the database's now(): a little ahead, so every row is due.
      now: () => new Date(Date.now() + 5_000),
    });
    ({ app, logs } = await adminApp(getDb(), {
      queues: null,
      kickSlack: () => void outbox.kick(),
    }));
  });
  afterAll(async () => {
    await app?.close();
    await outbox?.stop();
    await fake?.stop();
  });

  it('answers 401 without the token and 404 for an unknown or malformed reference', async () => {
    expect((await erase(app, 'P-2222', undefined, {})).statusCode).toBe(401);
    const unknown = await erase(app, 'P-ZZZZ99');
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: 'not_found', message: 'participant not found' });
    expect((await erase(app, 'not-a-ref')).statusCode).toBe(404);
  });

  it('leaves no number, name or text anywhere but the opted-out number in suppressions', async () => {
    const db = getDb();
    const person = await seedPerson(db, { optedOut: true, outbox, leadPhone });
    const other = await seedPerson(db, { leadPhone });
    for (const needle of needles(person)) expect(await columnsHolding(db, needle)).not.toEqual([]);
    const res = await erase(app, person.ref, { actor: 'dpo.jones' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ref: person.ref, erased_at: expect.any(String) });
    expect(await columnsHolding(db, person.phone)).toEqual(['suppressions.phone']);
    expect(await columnsHolding(db, person.name)).toEqual([]);
    expect(await columnsHolding(db, person.said)).toEqual([]);
    // Nobody else's data went with it.
    for (const needle of needles(other)) expect(await columnsHolding(db, needle)).not.toEqual([]);
    // The leads' copies name them by reference now; the rest of the roster is untouched.
    const lead = await db.query<{ body: string }>(
      `SELECT body FROM messages WHERE address = $1 AND kind = 'lead_summary' AND body LIKE $2`,
      [leadPhone, `%${person.ref}%`],
    );
    expect(lead.rows).toEqual([{ body: `Choir tomorrow: 1 ${person.ref}, 2 Ottoline` }]);
    // Audited with who asked; the audit row holds no content.
    const audit = (await listAuditEvents(db, person.id)).filter(
      (e) => e.kind === 'participant.erased',
    );
    expect(audit).toMatchObject([{ actor: 'admin:dpo.jones', detail: {} }]);
    for (const needle of needles(person)) expect(logs()).not.toContain(needle);
  });

  it('deletes our posts about them from Slack through the outbox; the queued one never goes', async () => {
    const db = getDb();
    const person = await seedPerson(db, { outbox, leadPhone });
    const { rows } = await db.query<{ ts: string }>(
      'SELECT slack_thread_ts AS ts FROM handoffs WHERE id = $1',
      [person.handoffId],
    );
    const parentTs = rows[0]!.ts;
    expect(fake.thread(HANDOFFS, parentTs).map((m) => m.text)).toEqual([
      `Hand-off ${person.ref} (${person.name})`,
      `${person.ref}: ${person.said}`,
    ]);
    const deletesBefore = fake.calls('chat.delete').length;
    expect((await erase(app, person.ref)).statusCode).toBe(200);
    await waitFor(async () => {
      await outbox.drain();
      const left = await db.query(
        `SELECT 1 FROM slack_outbox WHERE op = 'delete' AND status <> 'sent'`,
      );
      return left.rows.length === 0;
    });
    const ours = fake.messages(HANDOFFS).filter((m) => m.text.includes(person.ref));
    expect(ours).toEqual([]);
    // The parent, the relayed text and the referral card.
    expect(fake.calls('chat.delete').length - deletesBefore).toBe(3);
    const queued = await db.query<{ status: string; last_error: string }>(
      `SELECT status, last_error FROM slack_outbox WHERE handoff_id = $1 AND payload->>'text' = ''
         AND slack_ts IS NULL`,
      [person.handoffId],
    );
    expect(queued.rows).toEqual([{ status: 'failed', last_error: 'erased' }]);
    const handoff = await db.query('SELECT status FROM handoffs WHERE id = $1', [person.handoffId]);
    expect(handoff.rows).toEqual([{ status: 'closed' }]);
  });

  it('is harmless the second time: the same answer, one audit row', async () => {
    const db = getDb();
    const person = await seedPerson(db, { leadPhone });
    const first = await erase(app, person.ref);
    const second = await erase(app, person.ref);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual(first.json());
    const audit = (await listAuditEvents(db, person.id)).filter(
      (e) => e.kind === 'participant.erased',
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.actor).toBe('admin');
  });

  it('the send guard refuses a text already being sent when they were erased', async () => {
    const db = getDb();
    const phone = uniquePhone();
    const who = await createParticipant(db, { phone });
    await setConsent(db, who.id, 'given', { actor: 'participant' });
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body)
       VALUES ('out', 'sms', $1, $2, 'sending', 'See you tomorrow') RETURNING id`,
      [who.id, phone],
    );
    const guard = createSendGuard(db, {});
    expect(await guard(rows[0]!.id)).toBeNull();
    expect((await erase(app, who.ref)).statusCode).toBe(200);
    expect(await guard(rows[0]!.id)).toBe('erased');
  });

  it('keeps the managers report figures the same', async () => {
    const db = getDb();
    const person = await seedPerson(db, { leadPhone });
    const today = DateTime.now().setZone('Europe/London');
    const period = periodOf(
      today.minus({ days: 1 }).toISODate()!,
      today.plus({ days: 1 }).toISODate()!,
      'Europe/London',
    );
    const now = new Date();
    const before = await computeReport(db, period, now);
    expect((await erase(app, person.ref)).statusCode).toBe(200);
    expect(await computeReport(db, period, now)).toEqual(before);
  });
});

describe('erasure and the queues (real Redis)', () => {
  const pg = drivers.find((d) => d.name === 'pg')!;
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  beforeEach(async () => {
    p = await startPipeline(getDb());
  });
  afterEach(async () => p.close());

  /** A consenting participant booked tomorrow, with a day-before reminder due in `inMs`. */
  async function withReminder(inMs: number) {
    const db = getDb();
    const phone = uniquePhone();
    const who = await createParticipant(db, { phone, quietStart: '00:00', quietEnd: '00:00' });
    await setConsent(db, who.id, 'given', { actor: 'participant' });
    const { rows } = await db.query<{ booking: string; session: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id),
         s AS (INSERT INTO sessions (activity_id, starts_at, ends_at)
           SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id)
       INSERT INTO bookings (participant_id, session_id) SELECT $1, id FROM s
       RETURNING id AS booking, session_id AS session`,
      [who.id],
    );
    const { item } = await upsertScheduledItem(db, {
      kind: 'reminder_day_before',
      participantId: who.id,
      bookingId: rows[0]!.booking,
      sessionId: rows[0]!.session,
      dueAt: new Date(Date.now() + inMs),
    });
    await p.sink({ sends: [], items: [item], cancelledJobs: [], handoffs: [] });
    const job = await p.queues.reminders.getJob(item.jobId);
    expect(job).toBeDefined();
    return { who, phone, item };
  }

  it('removes their pending reminder jobs from Redis', async () => {
    const { who, item } = await withReminder(30 * 60_000);
    const { app } = await adminApp(getDb(), { queues: p.queues });
    expect((await erase(app, who.ref)).statusCode).toBe(200);
    expect(await p.queues.reminders.getJob(item.jobId)).toBeUndefined();
    await app.close();
  });

  it('a reminder job still queued when they were erased sends nothing', async () => {
    const { who, phone, item } = await withReminder(1_500);
    // Queues not given: the job stays in Redis, as when Redis was unreachable.
    const { app } = await adminApp(getDb());
    expect((await erase(app, who.ref)).statusCode).toBe(200);
    await waitFor(
      async () => (await p.queues.reminders.getJob(item.jobId))?.finishedOn !== undefined,
    );
    expect(p.gateway.to(phone)).toEqual([]);
    const state = await getDb().query(
      'SELECT state, skip_reason FROM scheduled_items WHERE id = $1',
      [item.id],
    );
    expect(state.rows).toEqual([{ state: 'cancelled', skip_reason: 'erased' }]);
    await app.close();
  });

  it('a text queued for them when they were erased is never sent', async () => {
    const db = getDb();
    const phone = uniquePhone();
    const who = await createParticipant(db, { phone });
    await setConsent(db, who.id, 'given', { actor: 'participant' });
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body, kind)
       VALUES ('out', 'sms', $1, $2, 'queued', 'See you tomorrow', 'conversation') RETURNING id`,
      [who.id, phone],
    );
    const id = rows[0]!.id;
    await p.queues.outbound.add('send', { messageId: id }, { jobId: `send-${id}`, delay: 1_500 });
    const { app } = await adminApp(getDb());
    expect((await erase(app, who.ref)).statusCode).toBe(200);
    await waitFor(
      async () => (await p.queues.outbound.getJob(`send-${id}`))?.finishedOn !== undefined,
    );
    expect(p.gateway.to(phone)).toEqual([]);
    const msg = await db.query('SELECT status, skip_reason FROM messages WHERE id = $1', [id]);
    expect(msg.rows).toEqual([{ status: 'skipped', skip_reason: 'erased' }]);
    await app.close();
  });
});
