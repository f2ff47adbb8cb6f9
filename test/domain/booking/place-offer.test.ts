import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateActivity } from '../../../src/domain/booking/activities.js';
import { cancelBooking } from '../../../src/domain/booking/bookings.js';
import { ChangeLog } from '../../../src/domain/booking/changes.js';
import { acceptInbound } from '../../../src/runner/accept-inbound.js';
import { createParticipant, setConsent, setOptOut } from '../../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../../support/pipeline.js';

// "A place came up": someone promoted from a waiting list is texted in their language, with
// how to say they can't come; held by their quiet hours; never to someone opted out or
// without consent; the promotion's audit event says what became of the text.

const pg = drivers.find((d) => d.name === 'pg')!;
const ZONE = 'Europe/London';
const NO_QUIET = { start: '00:00', end: '00:00' };

describe('a place came up (waiting list promotion)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(getDb());
  });
  afterAll(async () => p.close());

  const db = () => getDb();

  /** A session of an activity with room for one, starting in `minutes`. */
  async function fullSession(minutes: number, name = 'Choir') {
    const { rows } = await db().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location, capacity) VALUES ($1, 'the Hall', 1) RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() + make_interval(mins => $2), now() + make_interval(mins => $2 + 60) FROM a
       RETURNING id, starts_at`,
      [name, minutes],
    );
    return rows[0]!.id;
  }

  async function person(
    sessionId: string,
    status: 'booked' | 'waitlisted',
    o: { lang?: string; consent?: boolean; quiet?: { start: string; end: string } } = {},
  ) {
    const phone = uniquePhone();
    const quiet = o.quiet ?? NO_QUIET;
    const participant = await createParticipant(db(), {
      phone,
      quietStart: quiet.start,
      quietEnd: quiet.end,
      preferredLang: o.lang ?? 'en',
    });
    if (o.consent !== false)
      await setConsent(db(), participant.id, 'given', { actor: 'admin:test' });
    const { rows } = await db().query<{ id: string }>(
      `INSERT INTO bookings (participant_id, session_id, status, booked_at)
       VALUES ($1, $2, $3, clock_timestamp()) RETURNING id`,
      [participant.id, sessionId, status],
    );
    return { phone, participant, bookingId: rows[0]!.id };
  }

  const status = async (id: string) =>
    (await db().query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id]))
      .rows[0]?.status;

  const promotedAudit = async (participantId: string) =>
    (
      await db().query<{ detail: Record<string, unknown> }>(
        `SELECT detail FROM audit_events WHERE participant_id = $1 AND kind = 'booking.promoted' ORDER BY id`,
        [participantId],
      )
    ).rows.map((r) => r.detail);

  const offers = async (bookingId: string) =>
    (
      await db().query<{ id: string; version: number; state: string; due_at: Date }>(
        `SELECT id, version, state, due_at FROM scheduled_items
         WHERE booking_id = $1 AND kind = 'followup' AND payload->>'flow' = 'place_offered'`,
        [bookingId],
      )
    ).rows;

  const reply = async (phone: string, body: string) => {
    const r = await acceptInbound(db(), {
      sid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
      from: phone,
      body,
      numMedia: 0,
      segments: 1,
    });
    await p.runner.handleInbound(r.messageId);
  };

  /** Cancels as the admin API does (one booking transaction), then fires what it planned. */
  async function adminCancel(bookingId: string, now = new Date()) {
    const changes = new ChangeLog();
    const out = await db().transaction((tx) =>
      cancelBooking(tx, bookingId, { now, changes, actor: 'admin' }),
    );
    return { out, changes: changes.items };
  }

  it('"2 can\'t make it" passes the place on: the next person is told in Polish, and their own "2" passes it on again', async () => {
    const session = await fullSession(20 * 60);
    const first = await person(session, 'booked');
    const ola = await person(session, 'waitlisted', { lang: 'pl' });
    const ben = await person(session, 'waitlisted');
    const { item } = await upsertScheduledItem(db(), {
      kind: 'reminder_day_before',
      participantId: first.participant.id,
      bookingId: first.bookingId,
      sessionId: session,
      dueAt: new Date(),
    });
    expect(await p.runner.handleItem(item.id, item.version)).toBe('fired');
    await waitFor(() => p.gateway.to(first.phone).length === 1);
    await reply(first.phone, '2');

    // Ola has the place, and a text in Polish naming the activity, the day and time.
    expect(await status(ola.bookingId)).toBe('booked');
    await waitFor(() => p.gateway.to(ola.phone).length === 1);
    const start = DateTime.now().plus({ hours: 20 }).setZone(ZONE);
    const [text] = p.gateway.to(ola.phone);
    expect(text).toContain('zwolniło się miejsce: Choir');
    expect(text).toContain(`${start.toFormat('d/M')}, godz. ${start.toFormat('HH:mm')}`);
    expect(text).toContain('2 jeśli nie możesz');
    expect(await promotedAudit(ola.participant.id)).toEqual([
      expect.objectContaining({ booking_id: ola.bookingId, offer: 'planned' }),
    ]);
    // Ben is still waiting and has heard nothing.
    expect(await status(ben.bookingId)).toBe('waitlisted');
    expect(p.gateway.to(ben.phone)).toEqual([]);

    // Ola can't come: her booking is cancelled and Ben is told, in English.
    await reply(ola.phone, '2');
    await waitFor(() => p.gateway.to(ola.phone).length === 2);
    expect(p.gateway.to(ola.phone)[1]).toBe(
      'Dziękujemy za informację. Oddamy miejsce komuś innemu.',
    );
    expect(await status(ola.bookingId)).toBe('cancelled');
    expect(await status(ben.bookingId)).toBe('booked');
    await waitFor(() => p.gateway.to(ben.phone).length === 1);
    expect(p.gateway.to(ben.phone)[0]).toMatch(
      /^Linkline: good news, a place came up for Choir on \w+day \d+\/\d+ at \d\d:\d\d\. It's yours\. Reply 1 if you're coming or 2 if you can't make it\.$/,
    );

    // Ben is coming: the booking is confirmed (the lead's summary counts it).
    await reply(ben.phone, '1');
    await waitFor(() => p.gateway.to(ben.phone).length === 2);
    expect(p.gateway.to(ben.phone)[1]).toBe('Thank you. See you there!');
    expect(await status(ben.bookingId)).toBe('confirmed');
  });

  it('someone opted out or without consent is promoted but gets nothing; the audit says why', async () => {
    for (const who of ['opted_out', 'no_consent'] as const) {
      const session = await fullSession(20 * 60);
      const first = await person(session, 'booked');
      const next = await person(session, 'waitlisted', { consent: who !== 'no_consent' });
      if (who === 'opted_out')
        await setOptOut(db(), next.participant.id, true, { actor: 'participant' });
      const { out, changes } = await adminCancel(first.bookingId);
      expect(out.promoted.map((b) => b.id)).toEqual([next.bookingId]);
      expect(await offers(next.bookingId)).toEqual([]);
      expect(changes.some((c) => c.itemKey.includes('place_offered'))).toBe(false);
      expect(await promotedAudit(next.participant.id)).toEqual([
        expect.objectContaining({ offer: 'not_sent', reason: who }),
      ]);
    }
  });

  it('in quiet hours it waits for them to end; with no allowed time before the session, nothing is planned', async () => {
    const local = DateTime.now().setZone(ZONE);
    const quiet = {
      start: local.minus({ hours: 1 }).toFormat('HH:mm'),
      end: local.plus({ hours: 1 }).toFormat('HH:mm'),
    };
    // The session is tomorrow: the text is planned for the end of quiet hours, not sent now.
    const later = await fullSession(20 * 60);
    const a = await person(later, 'booked');
    const held = await person(later, 'waitlisted', { quiet });
    const { changes } = await adminCancel(a.bookingId);
    const [offer] = await offers(held.bookingId);
    expect(offer?.state).toBe('pending');
    expect(DateTime.fromJSDate(offer!.due_at).setZone(ZONE).toFormat('HH:mm')).toBe(quiet.end);
    expect(changes.map((c) => c.itemId)).toContain(offer!.id);
    expect(await promotedAudit(held.participant.id)).toEqual([
      expect.objectContaining({ offer: 'planned', due_at: offer!.due_at.toISOString() }),
    ]);
    // Fired early (a job promoted by hand) it still waits: quiet hours hold it.
    expect(await p.runner.handleItem(offer!.id, offer!.version)).toBe('skipped');
    expect(p.gateway.to(held.phone)).toEqual([]);

    // The session starts in 30 minutes, inside their quiet hours: no time to tell them.
    const soon = await fullSession(30);
    const b = await person(soon, 'booked');
    const late = await person(soon, 'waitlisted', { quiet });
    await adminCancel(b.bookingId);
    expect(await status(late.bookingId)).toBe('booked');
    expect(await offers(late.bookingId)).toEqual([]);
    expect(await promotedAudit(late.participant.id)).toEqual([
      expect.objectContaining({ offer: 'not_sent', reason: 'quiet_hours' }),
    ]);
  });

  it('a course whose capacity grows: one offer, for the first session; the others are booked quietly', async () => {
    const { rows } = await db().query<{ id: string; activity_id: string }>(
      `WITH a AS (INSERT INTO activities (name, location, capacity) VALUES ('Pottery', 'the Hall', 1) RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT a.id, now() + make_interval(days => d), now() + make_interval(days => d, hours => 1)
       FROM a, generate_series(1, 3) d RETURNING id, activity_id`,
    );
    const sessions = rows.map((r) => r.id);
    const waiting = await person(sessions[0]!, 'waitlisted');
    for (const s of sessions.slice(1))
      await db().query(
        `INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, 'waitlisted')`,
        [waiting.participant.id, s],
      );
    for (const s of sessions) await person(s, 'booked');
    const changes = new ChangeLog();
    await db().transaction((tx) =>
      updateActivity(
        tx,
        rows[0]!.activity_id,
        { capacity: 2 },
        { now: new Date(), changes, actor: 'admin' },
      ),
    );
    const { rows: promoted } = await db().query<{ id: string; session_id: string; status: string }>(
      `SELECT b.id, b.session_id, b.status FROM bookings b JOIN sessions s ON s.id = b.session_id
       WHERE b.participant_id = $1 ORDER BY s.starts_at`,
      [waiting.participant.id],
    );
    expect(promoted.map((b) => b.status)).toEqual(['booked', 'booked', 'booked']);
    expect((await offers(promoted[0]!.id)).length).toBe(1);
    expect(await offers(promoted[1]!.id)).toEqual([]);
    expect(await offers(promoted[2]!.id)).toEqual([]);
    expect((await promotedAudit(waiting.participant.id)).map((d) => d.reason ?? d.offer)).toEqual([
      'planned',
      'offer_pending',
      'offer_pending',
    ]);
  });

  it('fired once the session has started (a late job), or after the place was given up, it sends nothing', async () => {
    const session = await fullSession(20 * 60);
    const first = await person(session, 'booked');
    const next = await person(session, 'waitlisted');
    await adminCancel(first.bookingId);
    const [offer] = await offers(next.bookingId);
    await db().query(
      `UPDATE sessions SET starts_at = now() - interval '5 minutes', ends_at = now() + interval '1 hour' WHERE id = $1`,
      [session],
    );
    expect(await p.runner.handleItem(offer!.id, offer!.version)).toBe('skipped');
    const skipped = await db().query<{ skip_reason: string }>(
      'SELECT skip_reason FROM scheduled_items WHERE id = $1',
      [offer!.id],
    );
    expect(skipped.rows[0]!.skip_reason).toBe('too_late');

    const other = await fullSession(20 * 60);
    const one = await person(other, 'booked');
    const two = await person(other, 'waitlisted');
    await adminCancel(one.bookingId);
    const [second] = await offers(two.bookingId);
    await adminCancel(two.bookingId);
    expect(await p.runner.handleItem(second!.id, second!.version)).toBe('skipped');
    expect(p.gateway.to(next.phone)).toEqual([]);
    expect(p.gateway.to(two.phone)).toEqual([]);
  });
});
