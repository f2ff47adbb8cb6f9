import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('a reminder timer firing (in process)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: Pipeline;
  let sessionId: string;
  beforeAll(async () => {
    p = await startPipeline(getDb());
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id`,
    );
    sessionId = rows[0]!.id;
  });
  afterAll(async () => p.close());

  async function booked(quiet: { start: string; end: string } = { start: '00:00', end: '00:00' }) {
    const phone = uniquePhone();
    const participant = await createParticipant(getDb(), {
      phone,
      quietStart: quiet.start,
      quietEnd: quiet.end,
    });
    await setConsent(getDb(), participant.id, 'given', { actor: 'admin:test' });
    const { rows } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [participant.id, sessionId],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: participant.id,
      bookingId: rows[0]!.id,
      sessionId,
      dueAt: new Date(),
    });
    return { phone, participant, bookingId: rows[0]!.id, item };
  }

  const itemState = async (id: string) =>
    (
      await getDb().query<{ state: string; skip_reason: string | null; version: number }>(
        'SELECT state, skip_reason, version FROM scheduled_items WHERE id = $1',
        [id],
      )
    ).rows[0];

  it('starts the reminder flow; the reply "2" is recorded for the lead', async () => {
    const b = await booked();
    expect(await p.runner.handleItem(b.item.id, b.item.version)).toBe('fired');
    await waitFor(() => p.gateway.to(b.phone).length === 1);
    expect(p.gateway.to(b.phone)[0]).toMatch(
      /^Reminder: Art Club is tomorrow at \d\d:\d\d, the Library\. Reply 1/,
    );
    const r = await acceptInbound(getDb(), {
      sid: `SM${b.item.id.replace(/-/g, '')}`,
      from: b.phone,
      body: '2',
      numMedia: 0,
      segments: 1,
    });
    await p.runner.handleInbound(r.messageId);
    await waitFor(() => p.gateway.to(b.phone).length === 2);
    expect(p.gateway.to(b.phone)[1]).toMatch(/Thanks for letting us know/);
    const { rows } = await getDb().query(
      'SELECT question, value FROM answers WHERE participant_id = $1',
      [b.participant.id],
    );
    expect(rows).toEqual([{ question: 'reminder_reply', value: 'cant_make_it' }]);
    // That one session's booking is cancelled by the participant (the lead's summary counts it).
    const booking = await getDb().query<{ status: string; changed_by: string }>(
      'SELECT status, changed_by FROM bookings WHERE id = $1',
      [b.bookingId],
    );
    expect(booking.rows[0]).toEqual({ status: 'cancelled', changed_by: 'participant' });
    // Firing the same timer again (a redelivered job) does nothing.
    expect(await p.runner.handleItem(b.item.id, b.item.version)).toBe('stale');
  });

  it('"2 can\'t make it" cancels that booking and gives the seat to the first on the waiting list', async () => {
    const { rows: made } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location, capacity) VALUES ('Choir', 'the Hall', 1) RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id`,
    );
    const full = made[0]!.id;
    const person = async (status: string) => {
      const phone = uniquePhone();
      const participant = await createParticipant(getDb(), {
        phone,
        quietStart: '00:00',
        quietEnd: '00:00',
      });
      await setConsent(getDb(), participant.id, 'given', { actor: 'admin:test' });
      const { rows } = await getDb().query<{ id: string }>(
        'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
        [participant.id, full, status],
      );
      return { phone, participant, bookingId: rows[0]!.id };
    };
    const status = async (id: string) =>
      (await getDb().query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id]))
        .rows[0]?.status;
    const reply = async (phone: string, body: string, n: number) => {
      const r = await acceptInbound(getDb(), {
        sid: `SM${crypto.randomUUID().replace(/-/g, '')}`,
        from: phone,
        body,
        numMedia: 0,
        segments: 1,
      });
      await p.runner.handleInbound(r.messageId);
      await waitFor(() => p.gateway.to(phone).length === n);
    };
    const first = await person('booked');
    const waiting = await person('waitlisted');
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: first.participant.id,
      bookingId: first.bookingId,
      sessionId: full,
      dueAt: new Date(),
    });
    expect(await p.runner.handleItem(item.id, item.version)).toBe('fired');
    await waitFor(() => p.gateway.to(first.phone).length === 1);
    await reply(first.phone, '2', 2);
    expect(await status(first.bookingId)).toBe('cancelled');
    expect(await status(waiting.bookingId)).toBe('booked');
    // The seat's new holder is in the lead's list; the one who cannot come is not.
    const { rows: listed } = await getDb().query<{ participant_id: string }>(
      `SELECT participant_id FROM bookings WHERE session_id = $1 AND status IN ('booked', 'confirmed')`,
      [full],
    );
    expect(listed).toEqual([{ participant_id: waiting.participant.id }]);
  });

  it('is skipped, with its reason, for a cancelled booking or an opted-out participant', async () => {
    const cancelled = await booked();
    await getDb().query("UPDATE bookings SET status = 'cancelled' WHERE id = $1", [
      cancelled.bookingId,
    ]);
    expect(await p.runner.handleItem(cancelled.item.id, cancelled.item.version)).toBe('skipped');
    expect(await itemState(cancelled.item.id)).toMatchObject({
      state: 'skipped',
      skip_reason: 'booking_inactive',
    });
    const opted = await booked();
    await setOptOut(getDb(), opted.participant.id, true, { actor: 'participant' });
    expect(await p.runner.handleItem(opted.item.id, opted.item.version)).toBe('skipped');
    expect(await itemState(opted.item.id)).toMatchObject({ skip_reason: 'opted_out' });
    expect(p.gateway.to(cancelled.phone)).toEqual([]);
    expect(p.gateway.to(opted.phone)).toEqual([]);
  });

  it('fired late into quiet hours, it waits for the end of quiet hours (a new version), never sent in them', async () => {
    const local = DateTime.now().setZone('Europe/London');
    const quiet = {
      start: local.minus({ hours: 1 }).toFormat('HH:mm'),
      end: local.plus({ hours: 1 }).toFormat('HH:mm'),
    };
    const b = await booked(quiet);
    expect(await p.runner.handleItem(b.item.id, b.item.version)).toBe('skipped');
    const state = await itemState(b.item.id);
    expect(state?.version).toBe(2);
    expect(['pending', 'enqueued']).toContain(state?.state);
    const { rows } = await getDb().query<{ due_at: Date }>(
      'SELECT due_at FROM scheduled_items WHERE id = $1',
      [b.item.id],
    );
    expect(DateTime.fromJSDate(rows[0]!.due_at).setZone('Europe/London').toFormat('HH:mm')).toBe(
      quiet.end,
    );
    expect(p.gateway.to(b.phone)).toEqual([]);
  });
});
