import { describe, expect, it } from 'vitest';
import { bookParticipant, cancelBooking } from '../../../src/domain/booking/bookings.js';
import { type ItemChange, inBookingTx, jobEffects } from '../../../src/domain/booking/changes.js';
import { cancelSession } from '../../../src/domain/booking/sessions.js';
import type { Db } from '../../../src/store/db.js';
import { drivers, useTestDb } from '../../store/drivers.js';
import { makeActivity, makeParticipant, NOW } from './factory.js';

const book = (
  db: Db,
  target: { activityId: string } | { sessionId: string },
  pid: string,
  now = NOW,
) => inBookingTx(db, { now, actor: 'test' }, (tx, ctx) => bookParticipant(tx, target, pid, ctx));

const statuses = async (db: Db, sessionId: string) => {
  const { rows } = await db.query<{ status: string; n: number }>(
    `SELECT status, count(*) AS n FROM bookings WHERE session_id = $1 GROUP BY status ORDER BY status`,
    [sessionId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
};

describe.each(drivers)('bookings on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  it('books a course onto its remaining sessions only', async () => {
    const db = getDb();
    const { activity, sessions } = await makeActivity(db);
    expect(sessions).toHaveLength(6);
    await inBookingTx(db, { now: NOW, actor: 'test' }, (tx, ctx) =>
      cancelSession(tx, sessions[4]!.id, 'venue_closed', ctx),
    );
    const p = await makeParticipant(db);
    // Between the second and third Monday: two are past, one is cancelled.
    const later = new Date('2026-03-12T12:00:00Z');
    const outcomes = await book(db, { activityId: activity.id }, p.id, later);
    expect(outcomes.map((o) => o.booking.sessionId)).toEqual(
      [sessions[2], sessions[3], sessions[5]].map((s) => s!.id),
    );
    expect(outcomes.every((o) => o.created && o.booking.status === 'booked')).toBe(true);
  });

  it('is idempotent on (participant, session) and re-books a cancelled booking', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db);
    const p = await makeParticipant(db);
    const target = { sessionId: sessions[1]!.id };
    const [first] = await book(db, target, p.id);
    const [again] = await book(db, target, p.id);
    expect(again).toEqual({ booking: first!.booking, created: false });
    await inBookingTx(db, { now: NOW, actor: 'test' }, (tx, ctx) =>
      cancelBooking(tx, first!.booking.id, ctx),
    );
    const [rebooked] = await book(db, target, p.id);
    expect(rebooked!.booking).toMatchObject({
      id: first!.booking.id,
      status: 'booked',
      version: 3,
    });
  });

  it('refuses a past or cancelled session and an unknown participant', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db);
    const p = await makeParticipant(db);
    const late = new Date('2026-03-03T00:00:00Z');
    await expect(book(db, { sessionId: sessions[0]!.id }, p.id, late)).rejects.toMatchObject({
      code: 'session_started',
    });
    await expect(
      book(db, { sessionId: sessions[0]!.id }, '00000000-0000-4000-8000-000000000000'),
    ).rejects.toMatchObject({ code: 'participant_not_found' });
  });

  it('enforces capacity under concurrency: 10 at once on 8 seats -> 8 booked, 2 waitlisted', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db, { capacity: 8 });
    const people = await Promise.all(Array.from({ length: 10 }, () => makeParticipant(db)));
    const target = { sessionId: sessions[0]!.id };
    const results = await Promise.all(people.map((p) => book(db, target, p.id)));
    const byStatus = results.flat().map((o) => o.booking.status);
    expect(byStatus.filter((s) => s === 'booked')).toHaveLength(8);
    expect(byStatus.filter((s) => s === 'waitlisted')).toHaveLength(2);
    expect(await statuses(db, target.sessionId)).toEqual({ booked: 8, waitlisted: 2 });
  });

  it('promotes the first waitlisted booking when a seat is freed', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db, { capacity: 1 });
    const target = { sessionId: sessions[1]!.id };
    const [a, b, c] = [
      await makeParticipant(db),
      await makeParticipant(db),
      await makeParticipant(db),
    ];
    const [held] = await book(db, target, a.id);
    const [first] = await book(db, target, b.id);
    await book(db, target, c.id);
    expect(first!.booking.status).toBe('waitlisted');
    const seen: ItemChange[][] = [];
    const out = await inBookingTx(
      db,
      { now: NOW, actor: 'test', afterCommit: [(changes) => void seen.push([...changes])] },
      (tx, ctx) => cancelBooking(tx, held!.booking.id, ctx),
    );
    expect(out.promoted.map((x) => x.participantId)).toEqual([b.id]);
    expect(await statuses(db, target.sessionId)).toEqual({
      booked: 1,
      cancelled: 1,
      waitlisted: 1,
    });
    // The promoted participant now has reminders; the cancelled one's are cancelled.
    const keys = seen.flat().map((ch) => `${ch.itemKey.split(':')[0]}:${ch.kind}:${ch.state}`);
    expect(keys).toContain('booking:reminder_day_before:pending');
    expect(keys).toContain('booking:reminder_day_before:cancelled');
  });

  it('does not run afterCommit hooks when the transaction rolls back', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db);
    const p = await makeParticipant(db);
    let called = false;
    const failing = inBookingTx(
      db,
      {
        now: NOW,
        actor: 'test',
        afterCommit: [
          () => {
            called = true;
          },
        ],
      },
      async (tx, ctx) => {
        await bookParticipant(tx, { sessionId: sessions[0]!.id }, p.id, ctx);
        throw new Error('second half failed');
      },
    );
    await expect(failing).rejects.toThrow('second half failed');
    expect(called).toBe(false);
    expect(await statuses(db, sessions[0]!.id)).toEqual({});
  });
});

describe('jobEffects', () => {
  it('enqueues pending items and removes the jobs they replaced', () => {
    const base = { kind: 'reminder_day_before', dueAt: NOW, itemKey: 'k' } as const;
    const effects = jobEffects([
      {
        ...base,
        itemId: 'a',
        state: 'pending',
        version: 2,
        jobId: 'si-a-v2',
        staleJobId: 'si-a-v1',
      },
      {
        ...base,
        itemId: 'b',
        state: 'cancelled',
        version: 1,
        jobId: 'si-b-v1',
        staleJobId: 'si-b-v1',
      },
      { ...base, itemId: 'c', state: 'skipped', version: 1, jobId: 'si-c-v1', staleJobId: null },
    ]);
    expect(effects).toEqual({
      items: [
        {
          id: 'a',
          version: 2,
          kind: 'reminder_day_before',
          dueAt: NOW,
          jobId: 'si-a-v2',
          state: 'pending',
        },
      ],
      cancelledJobs: [
        { jobId: 'si-a-v1', kind: 'reminder_day_before', dueAt: null },
        { jobId: 'si-b-v1', kind: 'reminder_day_before', dueAt: null },
      ],
    });
  });
});
