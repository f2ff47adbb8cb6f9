import { describe, expect, it } from 'vitest';
import { bookParticipant, cancelBooking } from '../../../src/domain/booking/bookings.js';
import { inBookingTx } from '../../../src/domain/booking/changes.js';
import { planJourney } from '../../../src/domain/booking/journey.js';
import type { Db } from '../../../src/store/db.js';
import { setConsent } from '../../../src/store/repos/participants.js';
import { drivers, useTestDb } from '../../store/drivers.js';
import { makeActivity, makeParticipant, NOW } from './factory.js';

/** Counts the statements sent through a handle (planJourney's round trips). */
function counting(db: Db): { db: Db; n: () => number } {
  let n = 0;
  const wrapped: Db = {
    ...db,
    query: (sql, params) => {
      n += 1;
      return db.query(sql, params);
    },
  };
  return { db: wrapped, n: () => n };
}

const live = async (db: Db, pid: string) => {
  const { rows } = await db.query<{ slot: string; state: string; version: number }>(
    `SELECT split_part(item_key, 'slot=', 2) AS slot, state, version FROM scheduled_items
     WHERE participant_id = $1 AND kind IN ('followup', 'checkin') ORDER BY item_key`,
    [pid],
  );
  return rows.map((r) => `${r.slot}:${r.state}:v${r.version}`).sort();
};

/**
 * planJourney reads the participant, their bookings and their referral in one statement and
 * writes the wanted rows and cancels the others in one more, on both drivers: what it plans is
 * what the runner's journey tests (test/runner/journey.test.ts) see fire.
 */
describe.each(drivers)('planJourney on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  it('plans, re-plans unchanged, moves with the bookings, and cancels without consent: two statements each', async () => {
    const db = getDb();
    const { sessions } = await makeActivity(db);
    const p = await makeParticipant(db);
    await setConsent(db, p.id, 'given', { actor: 'test' });
    await db.query(
      `INSERT INTO referrals (participant_id, route, referred_at) VALUES ($1, 'self', $2)`,
      [p.id, NOW],
    );
    const ctx = { now: NOW, actor: 'test' };
    const [first] = await inBookingTx(db, ctx, (tx, c) =>
      bookParticipant(tx, { sessionId: sessions[1]!.id }, p.id, c),
    );
    await inBookingTx(db, ctx, (tx, c) =>
      bookParticipant(tx, { sessionId: sessions[5]!.id }, p.id, c),
    );

    const c1 = counting(db);
    const planned = await planJourney(c1.db, p.id, { now: NOW });
    expect(c1.n()).toBe(2);
    expect(planned.map((i) => i.itemKey.split('slot=')[1]).sort()).toEqual([
      'course_ending',
      'first_session_prep',
      'week_12',
      'week_6',
    ]);
    expect(await live(db, p.id)).toEqual([
      'course_ending:pending:v1',
      'first_session_prep:pending:v1',
      'week_12:pending:v1',
      'week_6:pending:v1',
    ]);

    // Again: the same rows come back, nothing moves.
    const again = await planJourney(db, p.id, { now: NOW });
    expect(again.map((i) => i.id).sort()).toEqual(planned.map((i) => i.id).sort());
    expect(again.every((i) => i.version === 1)).toBe(true);

    // The first booking cancelled: its preparation timer goes; the last one is now the only
    // one, so it gets the preparation message instead of the course ending.
    await inBookingTx(db, ctx, (tx, c) => cancelBooking(tx, first!.booking.id, c));
    expect(await live(db, p.id)).toEqual([
      'course_ending:cancelled:v2',
      'first_session_prep:cancelled:v2',
      'first_session_prep:pending:v1',
      'week_12:pending:v1',
      'week_6:pending:v1',
    ]);

    // Consent withdrawn: everything live is cancelled, in two statements.
    await setConsent(db, p.id, 'withdrawn', { actor: 'test' });
    const c2 = counting(db);
    expect(await planJourney(c2.db, p.id, { now: NOW })).toEqual([]);
    expect(c2.n()).toBe(2);
    expect((await live(db, p.id)).filter((r) => r.includes(':pending'))).toEqual([]);
  });
});
