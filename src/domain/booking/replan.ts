/**
 * Re-plans every scheduled item of one session from the rows as they are now. Call it in
 * the transaction that changed the session, a booking or the activity, after the change
 * and with the session row locked.
 *
 * - Each booked or confirmed booking gets its participant reminders (planBookingItems in
 *   the participant's zone and quiet hours), unless the participant opted out or was
 *   erased. The lead summary and attendance nudge are one per session, planned while the
 *   session has at least one active booking.
 * - A planned item that exists with another due time or payload (the payload carries the
 *   session version, so any move counts) gets a new version and so a new job id; one the
 *   plan skips is recorded as 'skipped' with the reason; a live item the plan no longer has
 *   is 'cancelled' with a reason. An item that already fired is left as history unless the
 *   session changed (its version is in the payload).
 * - A live item that is due (its time has come, not yet fired) and whose payload the plan
 *   still gives is left to fire, even though the plan, run after that time, now says
 *   'time_passed': a "2 can't make it" in the middle of a 10:00 burst must not skip the rest
 *   of that session's reminders. Its fire path checks the booking, the session and the hour.
 */
import type { Db } from '../../store/db-port.js';
import { planBookingItems } from '../schedule/plan.js';
import type { PlanPolicy } from '../schedule/plan-policy.js';
import type { ChangeLog, ItemChange } from './changes.js';
import { BookingError } from './errors.js';
import {
  closeItem,
  type ExistingItem,
  insertItem,
  isLive,
  lockSessionItems,
  rescheduleItem,
  type WantedItem,
} from './item-rows.js';
import { type PlanBooking, type PlanSession, wantedItems } from './replan-wanted.js';
import { ACTIVE_STATUSES } from './rows.js';

export interface ReplanOptions {
  changes?: ChangeLog;
  policy?: Partial<PlanPolicy>;
}

async function loadSession(tx: Db, sessionId: string): Promise<PlanSession> {
  const { rows } = await tx.query<PlanSession>(
    `SELECT s.id, s.activity_id AS "activityId", s.starts_at AS "startsAt",
       s.ends_at AS "endsAt", s.status, s.version, a.tz AS "activityTz",
       a.same_day_reminder AS "sameDayReminder", a.lead_slack_user AS "leadSlackUser",
       a.lead_phone AS "leadPhone"
     FROM sessions s JOIN activities a ON a.id = s.activity_id WHERE s.id = $1`,
    [sessionId],
  );
  const row = rows[0];
  if (!row) throw new BookingError('session_not_found', `no session ${sessionId}`);
  return row;
}

async function loadBookings(tx: Db, sessionId: string): Promise<PlanBooking[]> {
  const { rows } = await tx.query<PlanBooking>(
    `SELECT b.id, b.status, b.participant_id AS "participantId", p.tz,
       p.quiet_start AS "quietStart", p.quiet_end AS "quietEnd", p.opted_out AS "optedOut",
       p.erased_at IS NOT NULL AS erased
     FROM bookings b JOIN participants p ON p.id = b.participant_id
     WHERE b.session_id = $1 ORDER BY b.booked_at, b.id`,
    [sessionId],
  );
  return rows;
}

/** Why a live item is no longer wanted, as a skip_reason code. */
function dropReason(item: ExistingItem, session: PlanSession, bookings: PlanBooking[]): string {
  if (session.status === 'cancelled') return 'session_cancelled';
  const [scope, id] = item.itemKey.split(':');
  if (scope === 'session') {
    const active = bookings.some((b) => ACTIVE_STATUSES.includes(b.status));
    return active ? 'not_planned' : 'no_bookings';
  }
  const booking = bookings.find((b) => b.id === id);
  if (!booking) return 'not_planned';
  if (booking.status === 'cancelled') return 'booking_cancelled';
  if (booking.status === 'waitlisted') return 'waitlisted';
  if (!ACTIVE_STATUSES.includes(booking.status)) return 'booking_closed';
  if (booking.erased) return 'erased';
  if (booking.optedOut) return 'opted_out';
  return 'not_planned';
}

function canonical(value: Record<string, unknown>): string {
  return JSON.stringify(
    Object.keys(value)
      .sort()
      .map((k) => [k, value[k]]),
  );
}

async function apply(
  tx: Db,
  old: ExistingItem | undefined,
  w: WantedItem,
  now: Date,
): Promise<ItemChange | undefined> {
  if (!old) return insertItem(tx, w, now);
  if ('skip' in w.outcome) {
    const same = old.state === 'skipped' && old.skipReason === w.outcome.skip;
    if (old.state === 'fired' || same) return undefined;
    const due = isLive(old.state) && old.dueAt.getTime() <= now.getTime();
    if (due && canonical(old.payload) === canonical(w.payload)) return undefined;
    return closeItem(tx, old, 'skipped', w.outcome.skip);
  }
  // A fired item is history: planned again only for a changed session (its version is in
  // the payload), never because the time the plan gives now differs (a policy or quiet-hours
  // change, a clock moved in the sandbox): that would send the reminder a second time.
  if (old.state === 'fired' && canonical(old.payload) === canonical(w.payload)) return undefined;
  const sameTime = old.dueAt.getTime() === w.outcome.dueAt.getTime();
  if (sameTime && isLive(old.state) && canonical(old.payload) === canonical(w.payload)) {
    return undefined;
  }
  return rescheduleItem(tx, old, w.outcome.dueAt, w.payload);
}

/** Re-plans one session's items; see the rules at the top of the file. */
export async function replanSession(
  tx: Db,
  sessionId: string,
  now: Date,
  opts: ReplanOptions = {},
): Promise<ItemChange[]> {
  const session = await loadSession(tx, sessionId);
  const bookings = await loadBookings(tx, sessionId);
  const existing = new Map((await lockSessionItems(tx, sessionId)).map((i) => [i.itemKey, i]));
  const wanted =
    session.status === 'cancelled'
      ? []
      : wantedItems(session, bookings, now, (input) => planBookingItems(input, opts.policy));
  const changes: ItemChange[] = [];
  for (const w of wanted) {
    const change = await apply(tx, existing.get(w.itemKey), w, now);
    if (change) changes.push(change);
    existing.delete(w.itemKey);
  }
  for (const old of existing.values()) {
    if (!isLive(old.state)) continue;
    changes.push(await closeItem(tx, old, 'cancelled', dropReason(old, session, bookings)));
  }
  for (const c of changes) opts.changes?.add(c);
  return changes;
}
