import { describe, expect, it } from 'vitest';
import { bookParticipant, cancelBooking } from '../../../src/domain/booking/bookings.js';
import { inBookingTx } from '../../../src/domain/booking/changes.js';
import { replanSession } from '../../../src/domain/booking/replan.js';
import { cancelSession, lockSession, moveSession } from '../../../src/domain/booking/sessions.js';
import type { Db } from '../../../src/store/db.js';
import { setOptOut } from '../../../src/store/repos/participants.js';
import { drivers, useTestDb } from '../../store/drivers.js';
import { itemsOfSession, makeActivity, makeParticipant, NOW } from './factory.js';

const tx = <T>(db: Db, fn: Parameters<typeof inBookingTx<T>>[2], now = NOW) =>
  inBookingTx(db, { now, actor: 'test' }, fn);

const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
const view = (items: Awaited<ReturnType<typeof itemsOfSession>>) =>
  Object.fromEntries(
    items.map((i) => [
      i.itemKey.replace(/^(booking|session):[0-9a-f-]+:/, '$1:'),
      `${i.state} ${i.state === 'pending' ? iso(i.dueAt) : i.skipReason} v${i.version}`,
    ]),
  );

describe.each(drivers)('replanning on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  async function bookedSession(opts: Record<string, unknown> = {}) {
    const db = getDb();
    const { activity, sessions } = await makeActivity(db, { same_day_reminder: true, ...opts });
    const p = await makeParticipant(db);
    // Monday 16 March 2026, 10:00-11:30 GMT.
    const session = sessions[2]!;
    const [o] = await tx(db, (t, ctx) => bookParticipant(t, { sessionId: session.id }, p.id, ctx));
    return { db, activity, session, participant: p, booking: o!.booking };
  }

  it('plans reminders per booking and one lead summary and nudge per session', async () => {
    const { db, session, participant, booking } = await bookedSession();
    const other = await makeParticipant(db);
    await tx(db, (t, ctx) => bookParticipant(t, { sessionId: session.id }, other.id, ctx));
    const items = await itemsOfSession(db, session.id);
    expect(items.filter((i) => i.itemKey.startsWith('session:'))).toHaveLength(2);
    expect(items.filter((i) => i.itemKey.startsWith('booking:'))).toHaveLength(4);
    const mine = items.filter((i) => i.itemKey.startsWith(`booking:${booking.id}:`));
    expect(view(mine)).toEqual({
      'booking:reminder_day_before': 'pending 2026-03-15T10:00:00Z v1',
      // 2 h before is 08:00, quiet until 09:00, still an hour before the start.
      'booking:reminder_same_day': 'pending 2026-03-16T09:00:00Z v1',
    });
    expect(view(items.filter((i) => i.itemKey.startsWith('session:')))).toEqual({
      'session:attendance_nudge': 'pending 2026-03-16T12:00:00Z v1',
      'session:lead_summary': 'pending 2026-03-15T16:00:00Z v1',
    });
    expect(mine[0]!.payload).toEqual({
      booking_id: booking.id,
      session_id: session.id,
      participant_id: participant.id,
      activity_id: session.activityId,
      session_version: 1,
    });
  });

  it('moves a day earlier then later: final due times, new versions, distinct job ids', async () => {
    const { db, session, booking } = await bookedSession();
    const key = `booking:${booking.id}:reminder_day_before`;
    const jobIds = [(await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!.jobId];
    const moves = [
      ['2026-03-15T10:00:00Z', '2026-03-15T11:30:00Z'],
      ['2026-03-17T10:00:00Z', '2026-03-17T11:30:00Z'],
    ] as const;
    for (const [start, end] of moves) {
      await tx(db, (t, ctx) => moveSession(t, session.id, new Date(start), new Date(end), ctx));
      jobIds.push((await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!.jobId);
    }
    const items = await itemsOfSession(db, session.id);
    expect(view(items)).toEqual({
      'booking:reminder_day_before': 'pending 2026-03-16T10:00:00Z v3',
      'booking:reminder_same_day': 'pending 2026-03-17T09:00:00Z v3',
      'session:attendance_nudge': 'pending 2026-03-17T12:00:00Z v3',
      'session:lead_summary': 'pending 2026-03-16T16:00:00Z v3',
    });
    expect(new Set(jobIds).size).toBe(3);
    expect(items.find((i) => i.itemKey === key)!.payload.session_version).toBe(3);
    await tx(db, (t, ctx) => cancelSession(t, session.id, 'lead_unwell', ctx));
    expect(Object.values(view(await itemsOfSession(db, session.id)))).toEqual([
      'cancelled session_cancelled v3',
      'cancelled session_cancelled v3',
      'cancelled session_cancelled v3',
      'cancelled session_cancelled v3',
    ]);
  });

  it('leaves a fired reminder fired when a later replan gives another time; a moved session plans it again', async () => {
    const { db, session, booking } = await bookedSession();
    const key = `booking:${booking.id}:reminder_day_before`;
    // It fired an hour earlier than the plan now says (quiet hours or the policy changed since).
    await db.query(
      `UPDATE scheduled_items SET state = 'fired', due_at = due_at - interval '1 hour' WHERE item_key = $1`,
      [key],
    );
    const other = await makeParticipant(db);
    await tx(db, (t, ctx) => bookParticipant(t, { sessionId: session.id }, other.id, ctx));
    const fired = (await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!;
    expect(fired).toMatchObject({ state: 'fired', version: 1 });
    await tx(db, (t, ctx) =>
      moveSession(
        t,
        session.id,
        new Date('2026-03-17T10:00:00Z'),
        new Date('2026-03-17T11:30:00Z'),
        ctx,
      ),
    );
    const again = (await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!;
    expect(view([again])).toEqual({
      'booking:reminder_day_before': 'pending 2026-03-16T10:00:00Z v2',
    });
  });

  it("a cancel during the reminder burst leaves the others' due, unfired reminders to fire", async () => {
    const { db, session, booking } = await bookedSession();
    const other = await makeParticipant(db);
    const [o] = await tx(db, (t, ctx) =>
      bookParticipant(t, { sessionId: session.id }, other.id, ctx),
    );
    const key = `booking:${o!.booking.id}:reminder_day_before`;
    const before = (await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!;
    // 10:00:40 on the day before: the reminders came due 40 s ago and are still being fired
    // when the first participant texts "2" (their booking cancelled, the session re-planned).
    const burst = new Date('2026-03-15T10:00:40Z');
    await tx(db, (t, ctx) => cancelBooking(t, booking.id, ctx), burst);
    const after = (await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!;
    expect(after).toMatchObject({ state: 'pending', version: before.version, skipReason: null });
    expect(after.dueAt).toEqual(before.dueAt);
    // A session moved meanwhile is another plan: then a time that has passed is skipped.
    await tx(
      db,
      (t, ctx) =>
        moveSession(
          t,
          session.id,
          new Date('2026-03-16T10:30:00Z'),
          new Date('2026-03-16T12:00:00Z'),
          ctx,
        ),
      burst,
    );
    const moved = (await itemsOfSession(db, session.id)).find((i) => i.itemKey === key)!;
    expect(moved).toMatchObject({ state: 'skipped', skipReason: 'time_passed' });
  });

  it('cancels a cancelled booking’s items, and the lead’s when nobody is left', async () => {
    const { db, session, booking } = await bookedSession();
    await tx(db, (t, ctx) => cancelBooking(t, booking.id, ctx));
    expect(view(await itemsOfSession(db, session.id))).toEqual({
      'booking:reminder_day_before': 'cancelled booking_cancelled v1',
      'booking:reminder_same_day': 'cancelled booking_cancelled v1',
      'session:attendance_nudge': 'cancelled no_bookings v1',
      'session:lead_summary': 'cancelled no_bookings v1',
    });
  });

  it('gives an opted-out participant no reminders; the lead still hears', async () => {
    const { db, session, participant } = await bookedSession();
    await setOptOut(db, participant.id, true, { actor: 'participant' });
    await tx(db, async (t, ctx) => {
      await lockSession(t, session.id);
      return replanSession(t, session.id, ctx.now, { changes: ctx.changes });
    });
    const v = view(await itemsOfSession(db, session.id));
    expect(v['booking:reminder_day_before']).toBe('cancelled opted_out v1');
    expect(v['session:lead_summary']).toBe('pending 2026-03-15T16:00:00Z v1');
  });

  it('records items the plan skips, with the reason', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db, { lead_slack_user: null });
    const p = await makeParticipant(db);
    // Monday 2 March 10:00: the 10:00 reminder the day before is already past at NOW.
    await tx(db, (t, ctx) => bookParticipant(t, { sessionId: sessions[0]!.id }, p.id, ctx));
    expect(view(await itemsOfSession(db, sessions[0]!.id))).toEqual({
      'booking:reminder_day_before': 'skipped time_passed v1',
      'session:attendance_nudge': 'skipped no_lead_contact v1',
      'session:lead_summary': 'skipped no_lead_contact v1',
    });
  });

  it('keeps the day-before reminder at 10:00 local across the spring change', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db);
    const p = await makeParticipant(db);
    // Monday 30 March 10:00 BST; the reminder is Sunday 29 March 10:00 BST = 09:00Z.
    const monday = sessions[4]!;
    await tx(db, (t, ctx) => bookParticipant(t, { sessionId: monday.id }, p.id, ctx));
    const reminder = (await itemsOfSession(db, monday.id)).find((i) =>
      i.itemKey.endsWith(':reminder_day_before'),
    );
    expect(iso(reminder!.dueAt)).toBe('2026-03-29T09:00:00Z');
  });
});
