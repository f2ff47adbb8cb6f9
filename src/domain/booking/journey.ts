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
import { type ScheduledItem, upsertScheduledItem } from '../../store/repos/scheduled-items.js';
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

/**
 * Cancels the participant's live future journey rows not in keep (past-due ones fire and
 * re-check). A place offer is not planJourney's: it is kept unless `all` (no consent, opted
 * out, erased), and it checks its booking again when it fires.
 */
async function cancelLive(
  tx: Db,
  participantId: string,
  keep: readonly string[],
  now: Date,
  all = false,
): Promise<void> {
  await tx.query(
    `UPDATE scheduled_items SET state = 'cancelled', version = version + 1, updated_at = now()
     WHERE participant_id = $1 AND kind IN ('followup', 'checkin') AND payload ? 'flow'
       AND state IN ('pending', 'enqueued') AND due_at > $3 AND NOT (id = ANY($2::uuid[]))
       AND ($4 OR payload->>'flow' <> 'place_offered')`,
    [participantId, keep, now, all],
  );
}

/**
 * Plans (or re-plans) the participant's journey timers; returns the live rows it wants, so the
 * caller can enqueue them. Safe to call after any booking change, consent change or referral.
 */
export async function planJourney(
  tx: Db,
  participantId: string,
  opts: JourneyOptions,
): Promise<ScheduledItem[]> {
  const { rows: people } = await tx.query<Person>(
    `SELECT id, tz, quiet_start AS "quietStart", quiet_end AS "quietEnd", opted_out AS "optedOut",
       consent, erased_at IS NOT NULL AS erased FROM participants WHERE id = $1`,
    [participantId],
  );
  const p = people[0];
  if (!p) return [];
  if (p.optedOut || p.erased || p.consent !== 'given') {
    await cancelLive(tx, p.id, [], opts.now, true);
    return [];
  }
  const at = opts.at ?? DEFAULT_PLAN_POLICY.dayBeforeAt;
  const now = DateTime.fromJSDate(opts.now);
  const wanted: ScheduledItem[] = [];
  const keep = async (input: Parameters<typeof upsertScheduledItem>[1]) => {
    if (input.dueAt <= opts.now) return;
    wanted.push((await upsertScheduledItem(tx, input)).item);
  };

  const { rows: bookings } = await tx.query<BookingRow>(
    `WITH mine AS (
       SELECT b.id AS "bookingId", s.id AS "sessionId", s.activity_id AS "activityId",
         s.starts_at AS "startsAt",
         b.status IN ('booked', 'confirmed') AND s.status <> 'cancelled' AS active,
         row_number() OVER (PARTITION BY s.activity_id ORDER BY s.starts_at, b.id) AS first_rank,
         row_number() OVER (PARTITION BY s.activity_id, (b.status IN ('booked', 'confirmed')
           AND s.status <> 'cancelled') ORDER BY s.starts_at DESC, b.id) AS last_rank
       FROM bookings b JOIN sessions s ON s.id = b.session_id
       WHERE b.participant_id = $1 AND b.status <> 'cancelled')
     SELECT m."bookingId", m."sessionId", m."activityId", m."startsAt", m.active,
       m.first_rank = 1 AS "isFirst", m.active AND m.last_rank = 1 AS "isLastBooked",
       NOT EXISTS (SELECT 1 FROM sessions s2 WHERE s2.activity_id = m."activityId"
         AND s2.status <> 'cancelled' AND s2.starts_at > m."startsAt") AS "isLastOfActivity"
     FROM mine m`,
    [p.id],
  );
  for (const b of bookings) {
    if (!b.active) continue;
    const day = DateTime.fromJSDate(b.startsAt).setZone(p.tz);
    const common = { kind: 'followup' as const, participantId: p.id, bookingId: b.bookingId };
    if (b.isFirst) {
      const due = dueAt(p, day.minus({ days: opts.prepDaysBefore ?? 2 }), at);
      // Too close to the session (booked late): no preparation message after it starts.
      if (due < b.startsAt) {
        await keep({
          ...common,
          slot: 'first_session_prep',
          dueAt: due,
          payload: flow('first_session_prep'),
        });
      }
    }
    if (b.isLastBooked && b.isLastOfActivity && !b.isFirst) {
      const due = dueAt(p, day.minus({ days: opts.prepDaysBefore ?? 2 }), at);
      await keep({ ...common, slot: 'course_ending', dueAt: due, payload: flow('course_ending') });
    }
  }

  const { rows: refs } = await tx.query<{ referredAt: Date }>(
    `SELECT referred_at AS "referredAt" FROM referrals WHERE participant_id = $1
     ORDER BY referred_at LIMIT 1`,
    [p.id],
  );
  const referredAt = refs[0]?.referredAt;
  if (referredAt) {
    for (const w of opts.checkinWeeks ?? DEFAULT_CHECKIN_WEEKS) {
      const day = DateTime.fromJSDate(referredAt).setZone(p.tz).plus({ weeks: w });
      if (day < now.minus({ days: 7 })) continue; // long past: not sent late
      await keep({
        kind: 'checkin',
        participantId: p.id,
        slot: `week_${w}`,
        dueAt: dueAt(p, day, at),
        payload: { flow: 'checkin_ons4', weeks: w },
      });
    }
  }
  await cancelLive(
    tx,
    p.id,
    wanted.map((i) => i.id),
    opts.now,
  );
  return wanted;
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
