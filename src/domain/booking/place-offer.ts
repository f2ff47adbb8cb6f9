/**
 * "A place came up": when a waitlisted booking is given a freed seat, its participant is told
 * by SMS (flows/place_offered.yaml, in their language), with how to say they can't come.
 *
 * - A 'followup' row (slot 'place_offered', booking id set, payload `{ flow: 'place_offered' }`),
 *   like the other journey timers: the runner starts the flow when it fires, after checking
 *   opt-out, consent, a reminder pause, a hand-off, the booking still active, the session not
 *   started and quiet hours (src/runner/journey-fire.ts). No migration.
 * - Bulk, not a reply: due now, or when the participant's quiet hours end. If they end only
 *   once the session has started, nothing is planned (reason 'quiet_hours'): the place is still
 *   theirs, and the promotion's audit event says they were not told, for the link worker.
 * - Opted out, without consent or erased: nothing is planned (the reason is in the audit).
 * - Promoted again later (after cancelling and re-joining the list): a new offer.
 * - Promoted on several sessions of one activity at once (a course whose capacity grew): one
 *   offer, for the first; the others are booked as usual and get their own reminders
 *   (reason 'offer_pending'), so one person is not sent a string of texts that interrupt
 *   each other's conversation.
 */
import { DateTime } from 'luxon';
import type { Db } from '../../store/db-port.js';
import { upsertScheduledItem } from '../../store/repos/scheduled-items.js';
import { isQuiet, nextAllowedAfter } from '../schedule/quiet-hours.js';
import type { BookingCtx } from './changes.js';
import type { Booking, Session } from './rows.js';

export const PLACE_OFFER_FLOW = 'place_offered';

/** What became of the offer, for the promotion's audit event. */
export type PlaceOffer =
  | { offer: 'planned'; due_at: string }
  | {
      offer: 'not_sent';
      reason: 'opted_out' | 'no_consent' | 'erased' | 'quiet_hours' | 'offer_pending';
    };

interface Person {
  tz: string;
  quietStart: string;
  quietEnd: string;
  optedOut: boolean;
  consent: string;
  erased: boolean;
}

/** Plans the "a place came up" text for a booking just promoted from the waiting list. */
export async function planPlaceOffer(
  tx: Db,
  booking: Booking,
  session: Session,
  ctx: BookingCtx,
): Promise<PlaceOffer> {
  const { rows } = await tx.query<Person>(
    `SELECT tz, quiet_start AS "quietStart", quiet_end AS "quietEnd", opted_out AS "optedOut",
       consent, erased_at IS NOT NULL AS erased FROM participants WHERE id = $1`,
    [booking.participantId],
  );
  const p = rows[0];
  if (!p || p.erased) return { offer: 'not_sent', reason: 'erased' };
  if (p.optedOut) return { offer: 'not_sent', reason: 'opted_out' };
  if (p.consent !== 'given') return { offer: 'not_sent', reason: 'no_consent' };
  const qh = { start: p.quietStart.slice(0, 5), end: p.quietEnd.slice(0, 5) };
  const now = DateTime.fromJSDate(ctx.now);
  const due = isQuiet(now, p.tz, qh) ? nextAllowedAfter(now, p.tz, qh).toJSDate() : ctx.now;
  if (due >= session.startsAt) return { offer: 'not_sent', reason: 'quiet_hours' };
  const { rowCount } = await tx.query(
    `SELECT 1 FROM scheduled_items i JOIN bookings b ON b.id = i.booking_id
       JOIN sessions s ON s.id = b.session_id
     WHERE i.participant_id = $1 AND i.kind = 'followup' AND i.payload->>'flow' = $2
       AND i.state IN ('pending', 'enqueued') AND s.activity_id = $3 AND i.booking_id <> $4
     LIMIT 1`,
    [booking.participantId, PLACE_OFFER_FLOW, session.activityId, booking.id],
  );
  if ((rowCount ?? 0) > 0) return { offer: 'not_sent', reason: 'offer_pending' };
  const { item, changed } = await upsertScheduledItem(tx, {
    kind: 'followup',
    participantId: booking.participantId,
    bookingId: booking.id,
    slot: PLACE_OFFER_FLOW,
    dueAt: due,
    payload: { flow: PLACE_OFFER_FLOW },
  });
  if (changed)
    ctx.changes.add({
      itemId: item.id,
      itemKey: item.itemKey,
      kind: item.kind,
      state: item.state,
      dueAt: item.dueAt,
      version: item.version,
      jobId: item.jobId,
      // A job of an earlier version, if any, is a no-op when it fires (its version moved on).
      staleJobId: null,
    });
  return { offer: 'planned', due_at: due.toISOString() };
}
