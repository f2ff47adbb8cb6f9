import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { leadSmsReply } from '../../../src/channels/leads/index.js';
import { textInput } from '../../../src/sandbox/slack/payloads.js';
import { reconcile } from '../../../src/scheduler/reconciler.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, JO, useHarness } from './harness.js';

// Activity leads, end to end over HTTP with the local Twilio and the local Slack: the
// day-before summary, the attendance nudge (Slack buttons, or SMS numbers for a lead
// without Slack), absent → the missed-session follow-up; and the crisis acceptance line.

const SAM = 'U0LEADSAM3';
const h = useHarness();

const db = () => h.service.db;

async function person(firstName: string, consent = true) {
  const phone = h.phone();
  const ref = `P-${randomBytes(3).toString('hex').toUpperCase()}`;
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, consent, consent_at, quiet_start, quiet_end)
     VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'given' THEN now() END, '23:59', '00:00') RETURNING id`,
    [ref, phone, firstName, consent ? 'given' : 'none'],
  );
  return { id: rows[0]!.id, phone, ref };
}

async function activity(lead: { slack?: string; phone?: string }, startsAt: Date) {
  const a = await db().query<{ id: string }>(
    `INSERT INTO activities (name, location, lead_slack_user, lead_phone)
     VALUES ('Walking Football', 'Stretford Hall', $1, $2) RETURNING id`,
    [lead.slack ?? null, lead.phone ?? null],
  );
  const s = await db().query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
    [a.rows[0]!.id, startsAt],
  );
  return s.rows[0]!.id;
}

async function book(participantId: string, sessionId: string, status = 'booked') {
  const { rows } = await db().query<{ id: string }>(
    'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
    [participantId, sessionId, status],
  );
  return rows[0]!.id;
}

/** Plans the lead's item and runs it as the scheduler would when it is due. */
async function fire(kind: 'lead_summary' | 'attendance_nudge', sessionId: string) {
  const { rows } = await db().query<{ id: string; version: number }>(
    `INSERT INTO scheduled_items (item_key, kind, session_id, due_at) VALUES ($1, $2, $3, now()) RETURNING id, version`,
    [`${kind}:test:${sessionId}`, kind, sessionId],
  );
  return h.service.runner.handleItem(rows[0]!.id, rows[0]!.version);
}

const status = async (bookingId: string) =>
  (
    await db().query<{ status: string; version: number }>(
      'SELECT status, version FROM bookings WHERE id = $1',
      [bookingId],
    )
  ).rows[0]!;

const missedTexts = (phone: string) =>
  h.texts(phone).filter((t) => t.startsWith('We missed you at Walking Football'));

const pastSession = () => new Date(Date.now() - 2 * 3600_000);

const openModal = (callbackId: string) =>
  h.slack
    .views()
    .filter((v) => v.status === 'open' && v.view.callback_id === callbackId)
    .at(-1);

describe('activity leads', () => {
  it('sends the day-before summary to the lead by Slack DM, with the right counts', async () => {
    const tomorrow10 = DateTime.now().setZone('Europe/London').plus({ days: 1 }).set({
      hour: 10,
      minute: 0,
      second: 0,
      millisecond: 0,
    });
    const session = await activity({ slack: SAM }, tomorrow10.toJSDate());
    const statuses = [
      ...Array(6).fill('confirmed'),
      'cancelled',
      'booked',
      'waitlisted',
    ] as string[];
    for (const [i, st] of statuses.entries()) await book((await person(`P${i}`)).id, session, st);
    expect(await fire('lead_summary', session)).toBe('fired');
    const dm = h.slack.dmWith(SAM);
    const want =
      'Tomorrow 10:00 Walking Football at Stretford Hall: 8 booked: 6 confirmed, 1 cancelled, 1 no reply';
    await waitFor(() => h.slack.messages(dm).some((m) => m.text === want));
    expect(h.slack.calls('conversations.open').length).toBeGreaterThan(0);
  });

  it('sends the summary by SMS to a lead without Slack', async () => {
    const leadPhone = h.phone();
    const start = DateTime.now()
      .setZone('Europe/London')
      .plus({ days: 1 })
      .set({ hour: 14, minute: 30 });
    const session = await activity({ phone: leadPhone }, start.toJSDate());
    await book((await person('Ann')).id, session, 'confirmed');
    await book((await person('Bob')).id, session, 'booked');
    await fire('lead_summary', session);
    await waitFor(() =>
      h
        .texts(leadPhone)
        .includes(
          'Tomorrow 14:30 Walking Football at Stretford Hall: 2 booked: 1 confirmed, 0 cancelled, 1 no reply',
        ),
    );
  });

  it('Slack nudge: absent starts the missed-session follow-up once; races and strangers are refused', async () => {
    const session = await activity({ slack: SAM }, pastSession());
    const ann = await person('Ann');
    const bob = await person('Bob', false);
    const cat = await person('Cat');
    const bAnn = await book(ann.id, session, 'confirmed');
    const bBob = await book(bob.id, session);
    const bCat = await book(cat.id, session, 'confirmed');
    expect(await fire('attendance_nudge', session)).toBe('fired');
    const dm = h.slack.dmWith(SAM);
    await waitFor(() => h.slack.messages(dm).some((m) => m.text.startsWith('Who came to')));
    const nudge = h.slack.messages(dm).find((m) => m.text.startsWith('Who came to'))!;
    const card = JSON.stringify(nudge.blocks);
    // First names only with consent; otherwise the reference.
    expect(card).toContain('1. Ann');
    expect(card).toContain(`2. ${bob.ref}`);
    expect(card).not.toContain('Bob');
    expect(card).not.toContain(ann.phone.slice(1));

    // Someone who is neither the lead nor a link worker: refused, nothing changed.
    await h.slack.clickButton({
      user: JO,
      channel: dm,
      ts: nudge.ts,
      actionId: 'attendance_mark_absent_1',
    });
    await waitFor(() =>
      h.slack.responses().some((r) => JSON.stringify(r.body).includes('Only the activity lead')),
    );
    expect((await status(bAnn)).status).toBe('confirmed');

    // A double click on Absent: marked once, one follow-up.
    await Promise.all([
      h.slack.clickButton({
        user: SAM,
        channel: dm,
        ts: nudge.ts,
        actionId: 'attendance_mark_absent_1',
      }),
      h.slack.clickButton({
        user: SAM,
        channel: dm,
        ts: nudge.ts,
        actionId: 'attendance_mark_absent_1',
      }),
    ]);
    await waitFor(() => missedTexts(ann.phone).length === 1);
    expect(await status(bAnn)).toMatchObject({ status: 'absent', version: 2 });

    // Attended and Absent clicked at once for Cat: one wins, the other is told it is stale.
    await Promise.all([
      h.slack.clickButton({
        user: SAM,
        channel: dm,
        ts: nudge.ts,
        actionId: 'attendance_mark_attended_3',
      }),
      h.slack.clickButton({
        user: AMY,
        channel: dm,
        ts: nudge.ts,
        actionId: 'attendance_mark_absent_3',
      }),
    ]);
    await waitFor(() =>
      h.slack.responses().some((r) => JSON.stringify(r.body).includes('Someone already marked')),
    );
    const cat1 = await status(bCat);
    expect(cat1.version).toBe(2);
    // Whichever won, the follow-up matches it.
    await waitFor(() => missedTexts(cat.phone).length === (cat1.status === 'absent' ? 1 : 0));

    // Bob has not consented: marked absent, but no text goes to him.
    await h.slack.clickButton({
      user: SAM,
      channel: dm,
      ts: nudge.ts,
      actionId: 'attendance_mark_absent_2',
    });
    await waitFor(async () => (await status(bBob)).status === 'absent');

    // Add a drop-in: a modal; counted by name; the message is refreshed with what is recorded.
    await h.slack.clickButton({
      user: SAM,
      channel: dm,
      ts: nudge.ts,
      actionId: 'attendance_dropin',
    });
    await waitFor(() => openModal('lead_drop_in_modal') !== undefined);
    const dropIn = await h.slack.sendViewSubmission({
      viewId: openModal('lead_drop_in_modal')!.id,
      values: { name: { name: textInput('Dee') } },
    });
    expect(dropIn.outcome).toBe('closed');
    await waitFor(() =>
      JSON.stringify(h.slack.message(dm, nudge.ts)?.blocks).includes('Drop-ins: 1 (Dee)'),
    );
    expect(JSON.stringify(h.slack.message(dm, nudge.ts)?.blocks)).toContain('1. Ann — absent');
    // Let any stray follow-up arrive before asserting there is none.
    await h.service.slack.outbox.kick();
    expect(missedTexts(ann.phone)).toHaveLength(1);
    expect(h.texts(bob.phone)).toHaveLength(0);
  });

  it('SMS nudge for a lead without Slack: numbers mark attendance, absent gets the follow-up', async () => {
    const leadPhone = h.phone();
    const session = await activity({ phone: leadPhone }, pastSession());
    const ann = await person('Ann');
    const bob = await person('Bob');
    const bAnn = await book(ann.id, session, 'confirmed');
    const bBob = await book(bob.id, session, 'confirmed');
    await fire('attendance_nudge', session);
    await waitFor(() => h.texts(leadPhone).some((t) => t.includes('Reply with the numbers')));
    expect(h.texts(leadPhone).find((t) => t.includes('Reply with the numbers'))).toContain(
      '1 Ann\n2 Bob',
    );

    // Not a list: a short hint; nothing marked; the lead does not become a participant.
    await h.sms(leadPhone, 'hello');
    await waitFor(
      () => h.texts(leadPhone).filter((t) => t.startsWith('Reply with the numbers')).length === 1,
    );
    expect((await status(bAnn)).status).toBe('confirmed');

    await h.sms(leadPhone, '2');
    await waitFor(() => h.texts(leadPhone).includes('Thanks: 1 attended, 1 absent.'));
    expect((await status(bAnn)).status).toBe('absent');
    expect((await status(bBob)).status).toBe('attended');
    await waitFor(() => missedTexts(ann.phone).length === 1);
    expect(missedTexts(bob.phone)).toHaveLength(0);

    // The same reply again changes nothing and starts no second follow-up.
    await h.sms(leadPhone, '2');
    await waitFor(() => h.texts(leadPhone).filter((t) => t.startsWith('Thanks:')).length === 2);
    expect(missedTexts(ann.phone)).toHaveLength(1);
    const lead = await db().query('SELECT 1 FROM participants WHERE phone = $1', [leadPhone]);
    expect(lead.rowCount).toBe(0);
  });

  it("a lead's text is never lost: a failed first handling is retried once, a lost job is re-queued", async () => {
    const leadPhone = h.phone();
    const session = await activity({ phone: leadPhone }, pastSession());
    const ann = await person('Ann');
    const bAnn = await book(ann.id, session, 'confirmed');
    await fire('attendance_nudge', session);
    await waitFor(() => h.texts(leadPhone).some((t) => t.includes('Reply with the numbers')));
    // Stored as the webhook stores it, a minute ago, with no job in Redis (a Redis outage).
    const stored = async (body: string, sid: string) =>
      (
        await db().query<{ id: string }>(
          `INSERT INTO messages (direction, status, channel, provider_sid, address, body, created_at)
           VALUES ('in', 'received', 'sms', $1, $2, $3, now() - interval '1 minute') RETURNING id`,
          [sid, leadPhone, body],
        )
      ).rows[0]!.id;
    const thanks = () => h.texts(leadPhone).filter((t) => t.startsWith('Thanks:'));

    // The database fails while the answer is written: nothing is marked, nothing is sent.
    const first = await stored('1', `SM${randomBytes(16).toString('hex')}`);
    const deps = h.service.slack.deps;
    let failures = 0;
    const failing = {
      ...deps,
      db: {
        ...deps.db,
        transaction: <T>(fn: (tx: typeof deps.db) => Promise<T>) =>
          deps.db.transaction((tx) =>
            fn({
              ...tx,
              query: (sql: string, params?: readonly unknown[]) => {
                if (/^\s*INSERT INTO messages/.test(sql) && failures++ === 0)
                  throw new Error('connection lost');
                return tx.query(sql, params);
              },
            } as typeof tx),
          ),
      },
    } as typeof deps;
    await expect(leadSmsReply(failing, first, h.logger)).rejects.toThrow('connection lost');
    expect((await status(bAnn)).status).toBe('confirmed');
    // Its retry handles it; any later run finds it handled.
    expect(await leadSmsReply(deps, first, h.logger)).toBe('handled');
    expect(await leadSmsReply(deps, first, h.logger)).toBe('duplicate');
    await waitFor(() => thanks().length === 1);
    expect((await status(bAnn)).status).toBe('attended');

    // A text whose job was lost: the reconciler queues its `lead` job, which answers once.
    const second = await stored('none', `SM${randomBytes(16).toString('hex')}`);
    const svc = h.service;
    const counts = await reconcile(
      svc.db,
      svc.redis,
      svc.queues,
      svc.config.queuePrefix,
      new Date(),
      h.logger,
    );
    expect(counts.inbound).toBeGreaterThanOrEqual(1);
    await waitFor(() => thanks().length === 2);
    const { rows } = await db().query<{ processed: boolean }>(
      'SELECT processed_at IS NOT NULL AS processed FROM messages WHERE id = $1',
      [second],
    );
    expect(rows[0]?.processed).toBe(true);
    expect((await status(bAnn)).status).toBe('absent');
    await reconcile(svc.db, svc.redis, svc.queues, svc.config.queuePrefix, new Date(), h.logger);
    await new Promise((r) => setTimeout(r, 300));
    expect(thanks()).toHaveLength(2);
  });

  it("a lead's STOP (or a bare CANCEL) is Twilio's opt-out: no answer by SMS, the team told in Slack once; START too", async () => {
    const leadPhone = h.phone();
    await activity({ phone: leadPhone }, pastSession());
    const posts = (word: string) =>
      h.slack
        .messages(HANDOFFS)
        .filter((m) => m.text.includes('Walking Football') && m.text.includes(`texted ${word},`));
    await h.sms(leadPhone, 'Stop');
    await waitFor(() => posts('STOP').length === 1);
    const [post] = posts('STOP');
    expect(post!.text).toContain('opt-out word');
    expect(post!.text).not.toContain(leadPhone);
    expect(post!.text).toContain(leadPhone.slice(-3));
    await h.sms(leadPhone, 'cancel');
    await waitFor(() => posts('CANCEL').length === 1);
    await h.sms(leadPhone, 'START');
    await waitFor(() => posts('START').length === 1);
    expect(posts('START')[0]!.text).toContain('texts reach their number again');
    // Nothing was texted back (Twilio confirms itself), and each text was handled once.
    await new Promise((r) => setTimeout(r, 300));
    expect(h.texts(leadPhone)).toEqual([]);
    expect(posts('STOP')).toHaveLength(1);
    const { rows } = await db().query<{ kind: string }>(
      `SELECT kind FROM audit_events WHERE kind LIKE 'lead_opted_%' AND detail->'activities' IS NOT NULL ORDER BY id`,
    );
    expect(rows.map((r) => r.kind).slice(-3)).toEqual([
      'lead_opted_out',
      'lead_opted_out',
      'lead_opted_in',
    ]);
  });

  it('a crisis SMS: the safety text and an urgent @here post in the same processing cycle', async () => {
    // The 15 s escalation sweep is switched off for this test: the post can only come from
    // the inbound job's own sink, in the cycle that handled the message.
    const sweep = h.service.slack.sweep;
    let swept = 0;
    h.service.slack.sweep = async () => {
      swept += 1;
    };
    try {
      const phone = h.phone();
      await h.sms(phone, 'hello');
      await waitFor(() => h.texts(phone).length > 0);
      await h.sms(phone, 'I want to kill myself');
      await waitFor(() => h.texts(phone).some((t) => t.includes('Samaritans')));
      const p = await h.participant(phone);
      await waitFor(() =>
        h.slack
          .messages(HANDOFFS)
          .some((m) => m.text.includes(`Hand-off ${p.ref}`) && m.text.includes('<!here>')),
      );
      expect((await h.handoff(p.id))?.status).toBe('open');
      expect(swept).toBe(0);
    } finally {
      h.service.slack.sweep = sweep;
    }
  });
});
