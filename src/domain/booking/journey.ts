/**
 * The participant's journey timers, as scheduled_items rows (rows first, like reminders):
 *
 * - first_session_prep: two days before the participant's first booked session of an
 *   activity, at the day-before reminder hour in their zone, moved out of their quiet hours.
 *   Row kind 'followup', slot 'first_session_prep', booking id set.
 * - course_ending: two days before the participant's last booked session of an activity when
 *   that session is the activity's last scheduled one (the course ends there), at the same
 *   hour. Before, not after: the message says the course "finishes soon", and two days ahead
 *   keeps it off the day-before reminder. Not for a single booked session (that one gets the
 *   preparation message instead). Row kind 'followup', slot 'course_ending', booking id set.
 * - checkin_ons4: N weeks after the referral (default 6 and 12), only with consent. Row kind
 *   'checkin', slot 'week_N'.
 *
 * - place_offered: planned by place-offer.ts when a waitlisted booking gets a place; kept
 *   here, cancelled only with the rest when consent goes (or on opt-out / erasure).
 *
 * No migration: the existing 'followup' and 'checkin' kinds carry the flow id in the payload.
 * Planning is idempotent (one row per key); a row whose booking is no longer active, or a
 * participant without consent or opted out, has its live row cancelled. The runner checks
 * again when it fires (src/runner/journey-fire.ts).
 */
import { DateTime } from 'luxon';
import type { Db } from '../../store/db-port.js';
import {
  ITEM_SELECT,
  ITEM_SELECT_S,
  RESCHEDULE_ON_CONFLICT,
  type ScheduledItem,
  type ScheduleInput,
  scheduledItemKey,
} from '../../store/repos/scheduled-items.js';
import { DEFAULT_PLAN_POLICY } from '../schedule/plan-policy.js';
import { isQuiet, nextAllowedAfter } from '../schedule/quiet-hours.js';

export const JOURNEY_FLOWS = [
  'first_session_prep',
  'course_ending',
  'checkin_ons4',
  // Planned when a waitlisted booking gets a place (place-offer.ts), not by planJourney.
  'place_offered',
] as const;
export type JourneyFlow = (typeof JOURNEY_FLOWS)[number];

export const DEFAULT_CHECKIN_WEEKS: readonly number[] = [6, 12];
/** CHECKIN_WEEKS: "6,12" -> [6, 12]; a clear error on anything else. */
export { checkinWeeksSchema } from '../../config/checkin-weeks.js';

export interface JourneyOptions {
  now: Date;
  /** Weeks after the referral for the ONS4 check-ins (CHECKIN_WEEKS); default 6 and 12. */
  checkinWeeks?: readonly number[];
  /** Participant local time for the timers; the day-before reminder hour by default. */
  at?: string;
  prepDaysBefore?: number;
}

interface Person {
  id: string;
  tz: string;
  quietStart: string;
  quietEnd: string;
  optedOut: boolean;
  consent: string;
  erased: boolean;
}

interface BookingRow {
  bookingId: string;
  sessionId: string;
  activityId: string;
  startsAt: Date;
  active: boolean;
  isFirst: boolean;
  isLastOfActivity: boolean;
  isLastBooked: boolean;
}

/** The local wall time on a date, moved past the participant's quiet hours. */
function dueAt(p: Person, day: DateTime, at: string): Date {
  const [h, m] = at.split(':').map(Number);
  let t: DateTime = day
    .setZone(p.tz)
    .set({ hour: h ?? 10, minute: m ?? 0, second: 0, millisecond: 0 });
  const qh = { start: p.quietStart.slice(0, 5), end: p.quietEnd.slice(0, 5) };
  if (isQuiet(t, p.tz, qh)) t = nextAllowedAfter(t, p.tz, qh);
  return t.toJSDate();
}

/** The bookings planJourney reads (not cancelled ones), ranked per activity. */
const BOOKINGS_SQL = `WITH mine AS (
    SELECT b.id AS "bookingId", s.id AS "sessionId", s.activity_id AS "activityId",
      s.starts_at AS "startsAt",
      b.status IN ('booked', 'confirmed') AND s.status <> 'cancelled' AS active,
      row_number() OVER (PARTITION BY s.activity_id ORDER BY s.starts_at, b.id) AS first_rank,
      row_number() OVER (PARTITION BY s.activity_id, (b.status IN ('booked', 'confirmed')
        AND s.status <> 'cancelled') ORDER BY s.starts_at DESC, b.id) AS last_rank
    FROM bookings b JOIN sessions s ON s.id = b.session_id
    WHERE b.participant_id = p.id AND b.status <> 'cancelled')
  SELECT m."bookingId", m."sessionId", m."activityId", m."startsAt", m.active,
    m.first_rank = 1 AS "isFirst", m.active AND m.last_rank = 1 AS "isLastBooked",
    NOT EXISTS (SELECT 1 FROM sessions s2 WHERE s2.activity_id = m."activityId"
      AND s2.status <> 'cancelled' AND s2.starts_at > m."startsAt") AS "isLastOfActivity"
  FROM mine m`;

/** The participant, their bookings and their first referral, in one round trip. */
async function readPerson(
  tx: Db,
  participantId: string,
): Promise<(Person & { bookings: BookingRow[]; referredAt: Date | null }) | null> {
  const { rows } = await tx.query<
    Person & {
      bookings: (Omit<BookingRow, 'startsAt'> & { startsAt: string })[];
      referredAt: Date | null;
    }
  >(
    `SELECT p.id, p.tz, p.quiet_start AS "quietStart", p.quiet_end AS "quietEnd",
       p.opted_out AS "optedOut", p.consent, p.erased_at IS NOT NULL AS erased,
       (SELECT referred_at FROM referrals WHERE participant_id = p.id
        ORDER BY referred_at LIMIT 1) AS "referredAt",
       COALESCE((SELECT json_agg(b) FROM (${BOOKINGS_SQL}) b), '[]') AS bookings
     FROM participants p WHERE p.id = $1`,
    [participantId],
  );
  const row = rows[0];
  if (!row) return null;
  return { ...row, bookings: row.bookings.map((b) => ({ ...b, startsAt: new Date(b.startsAt) })) };
}

/**
 * Writes the wanted journey rows (each created or rescheduled as upsertScheduledItem does) and
 * cancels the participant's other live future journey rows, in ONE statement; returns the
 * wanted rows, changed or not. Past-due rows are left to fire and re-check. A place offer is
 * not planJourney's: it is kept unless `all` (no consent, opted out, erased), and it checks its
 * booking again when it fires.
 */
async function writeJourney(
  tx: Db,
  participantId: string,
  wanted: readonly ScheduleInput[],
  now: Date,
  all: boolean,
): Promise<ScheduledItem[]> {
  const { rows } = await tx.query<ScheduledItem>(
    `WITH v AS (
       SELECT * FROM unnest((SELECT $2::text[]), (SELECT $3::text[]), (SELECT $4::uuid[]),
         (SELECT $5::timestamptz[]), (SELECT $6::text[]))
         WITH ORDINALITY AS v(item_key, kind, booking_id, due_at, payload, ord)
     ), up AS (
       INSERT INTO scheduled_items (item_key, kind, participant_id, booking_id, due_at, payload)
       SELECT item_key, kind, $1, booking_id, due_at, payload::jsonb FROM v ORDER BY ord
       ${RESCHEDULE_ON_CONFLICT}
       RETURNING ${ITEM_SELECT}
     ), cancelled AS (
       UPDATE scheduled_items SET state = 'cancelled', version = version + 1, updated_at = now()
       WHERE participant_id = $1 AND kind IN ('followup', 'checkin') AND payload ? 'flow'
         AND state IN ('pending', 'enqueued') AND due_at > $7 AND NOT (item_key = ANY($2::text[]))
         AND ($8 OR payload->>'flow' <> 'place_offered')
     )
     SELECT * FROM up
     UNION ALL
     SELECT ${ITEM_SELECT_S} FROM scheduled_items s JOIN v ON s.item_key = v.item_key
     WHERE NOT EXISTS (SELECT 1 FROM up WHERE up."itemKey" = s.item_key)`,
    [
      participantId,
      wanted.map((w) => scheduledItemKey(w)),
      wanted.map((w) => w.kind),
      wanted.map((w) => w.bookingId ?? null),
      wanted.map((w) => w.dueAt.toISOString()),
      wanted.map((w) => JSON.stringify(w.payload ?? {})),
      now,
      all,
    ],
  );
  return rows;
}

/**
 * Plans (or re-plans) the participant's journey timers; returns the live rows it wants, so the
 * caller can enqueue them. Safe to call after any booking change, consent change or referral.
 * Two round trips, whatever it finds: one read, one write.
 */
export async function planJourney(
  tx: Db,
  participantId: string,
  opts: JourneyOptions,
): Promise<ScheduledItem[]> {
  const p = await readPerson(tx, participantId);
  if (!p) return [];
  if (p.optedOut || p.erased || p.consent !== 'given') {
    await writeJourney(tx, p.id, [], opts.now, true);
    return [];
  }
  const at = opts.at ?? DEFAULT_PLAN_POLICY.dayBeforeAt;
  const now = DateTime.fromJSDate(opts.now);
  const wanted: ScheduleInput[] = [];
  const keep = (input: ScheduleInput) => {
    if (input.dueAt > opts.now) wanted.push(input);
  };

  for (const b of p.bookings) {
    if (!b.active) continue;
    const day = DateTime.fromJSDate(b.startsAt).setZone(p.tz);
    const common = { kind: 'followup' as const, participantId: p.id, bookingId: b.bookingId };
    if (b.isFirst) {
      const due = dueAt(p, day.minus({ days: opts.prepDaysBefore ?? 2 }), at);
      // Too close to the session (booked late): no preparation message after it starts.
      if (due < b.startsAt) {
        keep({
          ...common,
          slot: 'first_session_prep',
          dueAt: due,
          payload: flow('first_session_prep'),
        });
      }
    }
    if (b.isLastBooked && b.isLastOfActivity && !b.isFirst) {
      const due = dueAt(p, day.minus({ days: opts.prepDaysBefore ?? 2 }), at);
      keep({ ...common, slot: 'course_ending', dueAt: due, payload: flow('course_ending') });
    }
  }

  if (p.referredAt) {
    for (const w of opts.checkinWeeks ?? DEFAULT_CHECKIN_WEEKS) {
      const day = DateTime.fromJSDate(p.referredAt).setZone(p.tz).plus({ weeks: w });
      if (day < now.minus({ days: 7 })) continue; // long past: not sent late
      keep({
        kind: 'checkin',
        participantId: p.id,
        slot: `week_${w}`,
        dueAt: dueAt(p, day, at),
        payload: { flow: 'checkin_ons4', weeks: w },
      });
    }
  }
  return writeJourney(tx, p.id, wanted, opts.now, false);
}

const flow = (id: JourneyFlow) => ({ flow: id });

/** The journey options of a booking change: its clock and the policy's check-in weeks. */
export function journeyOpts(ctx: {
  now: Date;
  policy?: { checkinWeeks?: readonly number[] } | undefined;
}): JourneyOptions {
  const weeks = ctx.policy?.checkinWeeks;
  return weeks === undefined ? { now: ctx.now } : { now: ctx.now, checkinWeeks: weeks };
}
