import { randomBytes } from 'node:crypto';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { inBookingTx } from '../../../src/domain/booking/changes.js';
import { replanSession } from '../../../src/domain/booking/replan.js';
import { datePicker, staticSelect } from '../../../src/sandbox/slack/index.js';
import { AMY, JO, useHarness } from '../../http/slack/harness.js';
import { waitFor } from '../../support/pipeline.js';

// "Cancel or move" from the lead's day-before summary, end to end over HTTP with the local
// Slack and the local Twilio: the modal, its validation, who may use it, the participants'
// texts in their own language (once each, even on a double submit), the re-planned
// reminders; and the admin API sending the same notice.

const SAM = 'U0LEADSAM3';
const ADMIN_TOKEN = 'leads-test-admin-token-0123';
const ZONE = 'Europe/London';
const h = useHarness({ ADMIN_TOKEN });

const db = () => h.service.db;

async function person(
  firstName: string,
  o: { lang?: string; consent?: boolean; optedOut?: boolean } = {},
) {
  const phone = h.phone();
  const ref = `P-${randomBytes(3).toString('hex').toUpperCase()}`;
  const consent = o.consent === false ? 'none' : 'given';
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, consent, consent_at, preferred_lang, opted_out,
       opted_out_at, quiet_start, quiet_end)
     VALUES ($1, $2, $3, $4, CASE WHEN $4 = 'given' THEN now() END, $5, $6,
       CASE WHEN $6 THEN now() END, '23:59', '00:00') RETURNING id`,
    [ref, phone, firstName, consent, o.lang ?? 'en', o.optedOut ?? false],
  );
  return { id: rows[0]!.id, phone, ref };
}

async function activity(name = 'Walking Football') {
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO activities (name, location, lead_slack_user) VALUES ($1, 'Stretford Hall', $2) RETURNING id`,
    [name, SAM],
  );
  return rows[0]!.id;
}

async function session(activityId: string, startsAt: DateTime) {
  const { rows } = await db().query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at) VALUES ($1, $2, $2::timestamptz + interval '1 hour') RETURNING id`,
    [activityId, startsAt.toJSDate()],
  );
  return rows[0]!.id;
}

async function book(participantId: string, sessionId: string, status = 'booked') {
  const { rows } = await db().query<{ id: string }>(
    'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
    [participantId, sessionId, status],
  );
  return rows[0]!.id;
}

/** Plans the session's reminders as booking through the admin API would. */
async function plan(sessionId: string) {
  await inBookingTx(db(), { now: new Date(), actor: 'test' }, (tx, ctx) =>
    replanSession(tx, sessionId, ctx.now, { changes: ctx.changes }),
  );
}

/** Fires the lead's day-before summary now; returns the DM message with its buttons. */
async function summary(sessionId: string) {
  const { rows } = await db().query<{ id: string; version: number }>(
    `INSERT INTO scheduled_items (item_key, kind, session_id, due_at) VALUES ($1, 'lead_summary', $2, now()) RETURNING id, version`,
    [`lead_summary:test:${sessionId}:${randomBytes(3).toString('hex')}`, sessionId],
  );
  expect(await h.service.runner.handleItem(rows[0]!.id, rows[0]!.version)).toBe('fired');
  const dm = h.slack.dmWith(SAM);
  const find = () =>
    h.slack
      .messages(dm)
      .find((m) => JSON.stringify(m.blocks ?? []).includes(sessionId) && m.text.includes('booked'));
  await waitFor(() => find() !== undefined);
  return { dm, message: find()! };
}

const openModal = (callbackId: string, user: string) =>
  h.slack
    .views()
    .filter((v) => v.status === 'open' && v.user === user && v.view.callback_id === callbackId)
    .at(-1);

/** Clicks "Cancel or move" on the summary as `user` and returns the modal's view id. */
async function openChange(user: string, sessionId: string) {
  const { dm, message } = await summary(sessionId);
  await h.slack.clickButton({ user, channel: dm, ts: message.ts, actionId: 'lead_session_change' });
  await waitFor(() => openModal('lead_session_change_modal', user) !== undefined);
  return openModal('lead_session_change_modal', user)!.id;
}

const timeInput = (t: string) => ({ type: 'timepicker', selected_time: t });

const moveValues = (date: string, start: string, end: string) => ({
  action: { action: staticSelect('move') },
  date: { date: datePicker(date) },
  start: { start: timeInput(start) },
  end: { end: timeInput(end) },
});

const skipReasons = async (participantId: string) =>
  (
    await db().query<{ skip_reason: string }>(
      `SELECT skip_reason FROM messages WHERE participant_id = $1 AND kind = 'session_change'`,
      [participantId],
    )
  ).rows.map((r) => r.skip_reason);

const liveReminders = async (bookingId: string) =>
  (
    await db().query<{ kind: string; due_at: Date }>(
      `SELECT kind, due_at FROM scheduled_items WHERE booking_id = $1 AND state IN ('pending', 'enqueued')
       ORDER BY due_at`,
      [bookingId],
    )
  ).rows;

const sessionRow = async (id: string) =>
  (
    await db().query<{
      status: string;
      version: number;
      cancel_reason: string | null;
      starts_at: Date;
    }>('SELECT status, version, cancel_reason, starts_at FROM sessions WHERE id = $1', [id])
  ).rows[0]!;

const inDays = (days: number, hour: number) =>
  DateTime.now().setZone(ZONE).plus({ days }).set({ hour, minute: 0, second: 0, millisecond: 0 });

describe('cancel or move a session from Slack', () => {
  it('move: each booked participant told once in their language, one reminder at the new time; a double submit changes and sends once', async () => {
    const sessionId = await session(await activity(), inDays(3, 10));
    const ann = await person('Ann');
    const ola = await person('Ola', { lang: 'pl' });
    const stopped = await person('Sid', { optedOut: true });
    const unconsented = await person('Una', { consent: false });
    const waiting = await person('Wes');
    const bAnn = await book(ann.id, sessionId, 'confirmed');
    await book(ola.id, sessionId);
    await book(stopped.id, sessionId);
    await book(unconsented.id, sessionId);
    await book(waiting.id, sessionId, 'waitlisted');
    await plan(sessionId);
    expect((await liveReminders(bAnn)).map((r) => r.kind)).toContain('reminder_day_before');

    const viewId = await openChange(SAM, sessionId);
    const target = inDays(4, 14);
    const values = moveValues(target.toISODate()!, '14:00', '15:30');
    const [a, b] = await Promise.all([
      h.slack.sendViewSubmission({ viewId, values }),
      h.slack.sendViewSubmission({ viewId, values }),
    ]);
    expect([a.outcome, b.outcome]).toEqual(['closed', 'closed']);

    const s = await sessionRow(sessionId);
    expect(s).toMatchObject({ status: 'moved', version: 2 });
    expect(s.starts_at.getTime()).toBe(target.toJSDate().getTime());

    const en = (t: string) => t.startsWith('Linkline: Walking Football has moved to');
    const pl = (t: string) => t.startsWith('Linkline: Walking Football ma nowy termin');
    await waitFor(() => h.texts(ann.phone).some(en) && h.texts(ola.phone).some(pl));
    const annText = h.texts(ann.phone).find(en)!;
    expect(annText).toContain(`${target.toFormat('cccc d/M')} at 14:00, Stretford Hall`);
    const plWeekday = [
      'poniedziałek',
      'wtorek',
      'środa',
      'czwartek',
      'piątek',
      'sobota',
      'niedziela',
    ][target.weekday - 1]!;
    expect(h.texts(ola.phone).find(pl)).toContain(
      `${plWeekday} ${target.toFormat('d/M')}, godz. 14:00`,
    );

    // The lead is told what was done, once.
    const dm = h.slack.dmWith(SAM);
    await waitFor(() =>
      h.slack.messages(dm).some((m) => m.text.startsWith('Moved: Walking Football')),
    );

    // Opted out, no consent: not texted (kept as skipped, with why); waitlisted: nothing.
    expect(await skipReasons(stopped.id)).toEqual(['opted_out']);
    expect(await skipReasons(unconsented.id)).toEqual(['no_consent']);
    expect(await skipReasons(waiting.id)).toEqual([]);

    // One day-before reminder, at 10:00 the day before the new date.
    const day = (await liveReminders(bAnn)).filter((r) => r.kind === 'reminder_day_before');
    expect(day).toHaveLength(1);
    expect(DateTime.fromJSDate(day[0]!.due_at).setZone(ZONE).toISO()).toBe(
      target.minus({ days: 1 }).set({ hour: 10 }).toISO(),
    );

    // Let anything stray arrive before counting: one text each, no second notice.
    await h.service.slack.outbox.kick();
    await new Promise((r) => setTimeout(r, 300));
    expect(h.texts(ann.phone).filter(en)).toHaveLength(1);
    expect(h.texts(ola.phone).filter(pl)).toHaveLength(1);
    expect(h.texts(stopped.phone)).toHaveLength(0);
    expect(h.texts(unconsented.phone)).toHaveLength(0);
    expect(
      h.slack.messages(dm).filter((m) => m.text.startsWith('Moved: Walking Football')),
    ).toHaveLength(1);
  });

  it('cancel by a link worker: told with the next session, in their language; no reminders left; the reason kept', async () => {
    const act = await activity('Art Club');
    const sessionId = await session(act, inDays(3, 11));
    const next = inDays(10, 11);
    await session(act, next);
    const ann = await person('Ann');
    const ola = await person('Ola', { lang: 'pl' });
    const bAnn = await book(ann.id, sessionId);
    await book(ola.id, sessionId, 'confirmed');
    await plan(sessionId);
    expect((await liveReminders(bAnn)).length).toBeGreaterThan(0);

    const viewId = await openChange(AMY, sessionId);
    const values = {
      action: { action: staticSelect('cancel') },
      reason: { reason: staticSelect('weather') },
    };
    const [a, b] = await Promise.all([
      h.slack.sendViewSubmission({ viewId, values }),
      h.slack.sendViewSubmission({ viewId, values }),
    ]);
    expect([a.outcome, b.outcome]).toEqual(['closed', 'closed']);
    expect(await sessionRow(sessionId)).toMatchObject({
      status: 'cancelled',
      version: 2,
      cancel_reason: 'weather',
    });

    const en = (t: string) => t.startsWith('Linkline: sorry, Art Club on');
    const pl = (t: string) => t.startsWith('Linkline: przepraszamy, Art Club');
    await waitFor(() => h.texts(ann.phone).some(en) && h.texts(ola.phone).some(pl));
    expect(h.texts(ann.phone).find(en)).toContain(
      `The next one is ${next.toFormat('cccc d/M')} at 11:00.`,
    );
    expect(h.texts(ola.phone).find(pl)).toContain(`Następne:`);
    expect(await liveReminders(bAnn)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(h.texts(ann.phone).filter(en)).toHaveLength(1);
    expect(h.texts(ola.phone).filter(pl)).toHaveLength(1);
  });

  it('validation: field errors keep the modal open and change nothing', async () => {
    const sessionId = await session(await activity(), inDays(3, 10));
    const ann = await person('Ann');
    await book(ann.id, sessionId);
    const viewId = await openChange(SAM, sessionId);
    const date = inDays(5, 9).toISODate()!;
    const cases: [Record<string, unknown>, string][] = [
      [{}, 'action'],
      [moveValues(date, '14:00', '13:00'), 'end'],
      [
        moveValues(DateTime.now().setZone(ZONE).minus({ days: 2 }).toISODate()!, '10:00', '11:00'),
        'date',
      ],
      [{ action: { action: staticSelect('move') } }, 'date'],
    ];
    for (const [values, field] of cases) {
      const r = await h.slack.sendViewSubmission({ viewId, values: values as never });
      expect(r.outcome).toBe('errors');
      expect(Object.keys(r.errors ?? {})).toContain(field);
    }
    expect(await sessionRow(sessionId)).toMatchObject({ status: 'scheduled', version: 1 });
    expect(await skipReasons(ann.id)).toEqual([]);
  });

  it('someone who is neither the lead nor a link worker is refused: no modal, no change', async () => {
    const sessionId = await session(await activity(), inDays(3, 10));
    const ann = await person('Ann');
    await book(ann.id, sessionId);
    const { dm, message } = await summary(sessionId);
    await h.slack.clickButton({
      user: JO,
      channel: dm,
      ts: message.ts,
      actionId: 'lead_session_change',
    });
    await waitFor(() =>
      h.slack
        .responses()
        .some((r) => JSON.stringify(r.body).includes('can cancel or move a session')),
    );
    expect(openModal('lead_session_change_modal', JO)).toBeUndefined();

    // A forged submission of the lead's own modal, as JO: refused with a field error.
    const viewId = await openChange(SAM, sessionId);
    const r = await h.slack.sendViewSubmission({
      viewId,
      user: JO,
      values: { action: { action: staticSelect('cancel') } },
    });
    expect(r.outcome).toBe('errors');
    expect(r.errors?.action).toMatch(/Only the activity lead or a link worker/);
    expect(await sessionRow(sessionId)).toMatchObject({ status: 'scheduled', version: 1 });
  });

  it('the admin API cancel sends the same notice, once however often it is called', async () => {
    const sessionId = await session(await activity('Coffee Morning'), inDays(2, 10));
    const ann = await person('Ann');
    const ola = await person('Ola', { lang: 'pl' });
    await book(ann.id, sessionId);
    await book(ola.id, sessionId);
    await plan(sessionId);
    for (let i = 0; i < 2; i += 1) {
      const res = await h.running.app.inject({
        method: 'POST',
        url: `/admin/sessions/${sessionId}/cancel`,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
        payload: { reason: 'venue_closed' },
      });
      expect(res.statusCode).toBe(200);
    }
    const en = (t: string) => t.startsWith('Linkline: sorry, Coffee Morning on');
    const pl = (t: string) => t.startsWith('Linkline: przepraszamy, Coffee Morning');
    await waitFor(() => h.texts(ann.phone).some(en) && h.texts(ola.phone).some(pl));
    expect(h.texts(ann.phone).find(en)).toContain('Your link worker can help');
    await new Promise((r) => setTimeout(r, 300));
    expect(h.texts(ann.phone)).toHaveLength(1);
    expect(h.texts(ola.phone)).toHaveLength(1);
  });
});
