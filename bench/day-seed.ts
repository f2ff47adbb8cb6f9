/**
 * The mixed day's people: P participants, each booked onto one session on the day after the
 * reminders' due time T (groups of BENCH_DAY_GROUP, four sessions per activity, at the
 * times bench/day-clock.ts gives). Participants and
 * bookings go in with bulk SQL (the columns `addParticipant` and `bookParticipant` write,
 * minus their audit rows); the reminders, lead summaries and journey timers are then made by
 * the booking domain itself (`replanSession` per session, `planJourney` per participant), so
 * scheduled_items holds exactly what the domain plans.
 */

import { seedLinkWorkers } from '../src/channels/slack/sandbox-seed.js';
import { replanSession } from '../src/domain/booking/index.js';
import { planJourney } from '../src/domain/booking/journey.js';
import { SANDBOX_USERS } from '../src/sandbox/slack/index.js';
import type { Db } from '../src/store/db.js';
import type { DayClock } from './day-clock.js';
import { log } from './lib.js';

/** The participant's phone and reference, from their number 0..P-1 (the driver needs both). */
export const dayPhone = (i: number) => `+4477${String(i).padStart(8, '0')}`;
export const dayRef = (i: number) => `P-${i.toString(16).toUpperCase().padStart(6, '0')}`;

async function inBatches(n: number, width: number, each: (i: number) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) {
        const i = next;
        next += 1;
        await each(i);
      }
    }),
  );
}

export interface Seeded {
  sessions: string[];
  /** Live scheduled_items rows after the domain planned them, by kind. */
  items: Record<string, number>;
}

/**
 * `clock` gives the sessions' times and the day-before time the domain plans with: the
 * service runs with the same REMINDER_DAY_BEFORE_AT, so its replans agree with the seed.
 */
export async function seedDay(
  db: Db,
  p: number,
  group: number,
  clock: Pick<DayClock, 'sessions' | 'dayBeforeAt'>,
): Promise<Seeded> {
  await seedLinkWorkers(db, SANDBOX_USERS);
  const sessionCount = Math.ceil(p / group);
  const activities = Math.ceil(sessionCount / clock.sessions.length);
  const { rows: acts } = await db.query<{ id: string }>(
    `INSERT INTO activities (name, location, description)
     SELECT 'Art Club ' || g, 'the Library', 'Painting and a cup of tea'
     FROM generate_series(1, $1::int) AS g RETURNING id`,
    [activities],
  );
  const { rows: sessions } = await db.query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at, seq)
     SELECT a.id, ($3::timestamptz[])[k + 1], ($4::timestamptz[])[k + 1], k + 1
     FROM unnest($1::uuid[]) AS a(id), generate_series(0, $5::int - 1) AS k
     ORDER BY a.id, k LIMIT $2 RETURNING id`,
    [
      acts.map((a) => a.id),
      sessionCount,
      clock.sessions.map((s) => s.startsAt.toISOString()),
      clock.sessions.map((s) => s.endsAt.toISOString()),
      clock.sessions.length,
    ],
  );
  await db.query(
    `INSERT INTO participants (ref, phone, consent, consent_at, quiet_start, quiet_end)
     SELECT 'P-' || lpad(upper(to_hex(i)), 6, '0'), '+4477' || lpad(i::text, 8, '0'), 'given', now(), '00:00', '00:00'
     FROM generate_series(0, $1::int - 1) AS i`,
    [p],
  );
  await db.query(
    `INSERT INTO bookings (participant_id, session_id, status, changed_by)
     SELECT p.id, ($2::uuid[])[(substr(p.phone, 6)::int / $1::int) + 1], 'booked', 'bench'
     FROM participants p WHERE p.phone LIKE '+4477%'`,
    [group, sessions.map((s) => s.id)],
  );
  await db.exec('ANALYZE');
  log(`seed: ${p} participants and bookings in ${sessions.length} sessions`);
  const now = new Date();
  const policy = { dayBeforeAt: clock.dayBeforeAt };
  await inBatches(sessions.length, 4, (i) =>
    db.transaction(async (tx) => void (await replanSession(tx, sessions[i]!.id, now, { policy }))),
  );
  log('seed: sessions planned by the domain');
  const { rows: people } = await db.query<{ id: string }>('SELECT id FROM participants');
  await inBatches(people.length, 4, (i) =>
    db.transaction(async (tx) => void (await planJourney(tx, people[i]!.id, { now }))),
  );
  await db.exec('ANALYZE');
  const { rows: kinds } = await db.query<{ kind: string; n: number }>(
    `SELECT kind, count(*)::int AS n FROM scheduled_items WHERE state IN ('pending', 'enqueued') GROUP BY kind`,
  );
  return {
    sessions: sessions.map((s) => s.id),
    items: Object.fromEntries(kinds.map((k) => [k.kind, k.n])),
  };
}
