/**
 * Bookings. Capacity is the activity's, per session; it is enforced with the session row
 * locked (FOR UPDATE) and the seats counted in the same transaction, so concurrent
 * bookings of one session queue on the lock and the ones past capacity are 'waitlisted'.
 * A booking is unique per (participant, session): booking again returns the booking
 * there is, and re-books a cancelled one. Freed seats go to the waiting list in order.
 */
import type { Db } from '../../store/db-port.js';
import { appendAudit } from '../../store/repos/audit.js';
import type { BookingCtx } from './changes.js';
import { BookingError } from './errors.js';
import { journeyOpts, planJourney } from './journey.js';
import { planPlaceOffer } from './place-offer.js';
import { replanSession } from './replan.js';
import { BOOKING_SELECT, type Booking, type Session } from './rows.js';
import { lockFutureSessions, lockSession, replanOpts } from './sessions.js';

export type BookTarget = { activityId: string } | { sessionId: string };

export interface BookingOutcome {
  booking: Booking;
  /** False when the participant already held this booking (nothing changed). */
  created: boolean;
}

interface ActivityGate {
  status: string;
  capacity: number | null;
}

async function activityGate(tx: Db, activityId: string): Promise<ActivityGate> {
  const { rows } = await tx.query<ActivityGate>(
    'SELECT status, capacity FROM activities WHERE id = $1',
    [activityId],
  );
  if (!rows[0]) throw new BookingError('activity_not_found', `no activity ${activityId}`);
  if (rows[0].status !== 'active') {
    throw new BookingError('activity_not_active', `the activity is ${rows[0].status}`);
  }
  return rows[0];
}

async function checkParticipant(tx: Db, participantId: string): Promise<void> {
  const { rows } = await tx.query<{ erased: boolean }>(
    'SELECT erased_at IS NOT NULL AS erased FROM participants WHERE id = $1',
    [participantId],
  );
  if (!rows[0]) throw new BookingError('participant_not_found', `no participant ${participantId}`);
  if (rows[0].erased) throw new BookingError('participant_erased', 'the participant was erased');
}

/** The sessions a target books: one future session, or all of a course's remaining ones. */
async function targetSessions(tx: Db, target: BookTarget, now: Date): Promise<Session[]> {
  if ('sessionId' in target) {
    const session = await lockSession(tx, target.sessionId);
    if (session.status === 'cancelled') {
      throw new BookingError('session_cancelled', 'the session is cancelled');
    }
    if (session.startsAt <= now)
      throw new BookingError('session_started', 'the session has started');
    return [session];
  }
  await activityGate(tx, target.activityId);
  const sessions = await lockFutureSessions(tx, target.activityId, now);
  if (sessions.length === 0) {
    throw new BookingError('no_future_sessions', 'the activity has no sessions left to book');
  }
  return sessions;
}

async function seatsTaken(tx: Db, sessionId: string): Promise<number> {
  const { rows } = await tx.query<{ n: number }>(
    `SELECT count(*) AS n FROM bookings
     WHERE session_id = $1 AND status IN ('booked', 'confirmed', 'attended', 'absent')`,
    [sessionId],
  );
  return rows[0]?.n ?? 0;
}

/**
 * Moves waitlisted bookings into free seats, first come first served. Session locked. Each
 * person promoted is told "a place came up" (place-offer.ts: held by quiet hours, never to
 * someone opted out or without consent), gets their journey timers, and the promotion's
 * audit event says whether and when they are told.
 */
export async function promoteWaitlisted(
  tx: Db,
  session: Session,
  capacity: number | null,
  ctx: BookingCtx,
): Promise<Booking[]> {
  const free = capacity === null ? null : capacity - (await seatsTaken(tx, session.id));
  if (free !== null && free <= 0) return [];
  const { rows } = await tx.query<Booking>(
    `UPDATE bookings SET status = 'booked', version = version + 1, changed_by = $3
     WHERE id IN (SELECT id FROM bookings WHERE session_id = $1 AND status = 'waitlisted'
                  ORDER BY booked_at, id LIMIT $2)
     RETURNING ${BOOKING_SELECT}`,
    [session.id, free, ctx.actor],
  );
  for (const b of rows) {
    const offer = await planPlaceOffer(tx, b, session, ctx);
    await audit(tx, 'booking.promoted', b, ctx, offer);
    await planJourney(tx, b.participantId, journeyOpts(ctx));
  }
  return rows;
}

async function audit(
  tx: Db,
  kind: string,
  b: Booking,
  ctx: BookingCtx,
  more: Record<string, unknown> = {},
): Promise<void> {
  await appendAudit(tx, {
    participantId: b.participantId,
    kind,
    actor: ctx.actor,
    detail: { booking_id: b.id, session_id: b.sessionId, status: b.status, ...more },
  });
}

async function existingBooking(tx: Db, participantId: string, sessionId: string) {
  const { rows } = await tx.query<Booking>(
    `SELECT ${BOOKING_SELECT} FROM bookings
     WHERE participant_id = $1 AND session_id = $2 FOR UPDATE`,
    [participantId, sessionId],
  );
  return rows[0];
}

async function bookOne(
  tx: Db,
  session: Session,
  participantId: string,
  capacity: number | null,
  ctx: BookingCtx,
): Promise<BookingOutcome> {
  const existing = await existingBooking(tx, participantId, session.id);
  if (existing && existing.status !== 'cancelled') return { booking: existing, created: false };
  // Seats freed earlier go to the queue before a newcomer.
  await promoteWaitlisted(tx, session, capacity, ctx);
  const full = capacity !== null && (await seatsTaken(tx, session.id)) >= capacity;
  const status = full ? 'waitlisted' : 'booked';
  const { rows } = await tx.query<Booking>(
    `INSERT INTO bookings (participant_id, session_id, status, changed_by) VALUES ($1, $2, $3, $4)
     ON CONFLICT ON CONSTRAINT bookings_participant_session_key DO UPDATE
       SET status = excluded.status, changed_by = excluded.changed_by, booked_at = now(),
         cancelled_at = NULL, confirmed_at = NULL, version = bookings.version + 1
     RETURNING ${BOOKING_SELECT}`,
    [participantId, session.id, status, ctx.actor],
  );
  const booking = rows[0]!;
  await audit(tx, full ? 'booking.waitlisted' : 'booking.created', booking, ctx);
  return { booking, created: true };
}

/**
 * Books a participant onto one session, or onto every remaining (future, not cancelled)
 * session of an activity (a course). Each session is booked or waitlisted on its own
 * capacity. Re-plans each session's reminders. Returns one outcome per session, by start.
 */
export async function bookParticipant(
  tx: Db,
  target: BookTarget,
  participantId: string,
  ctx: BookingCtx,
): Promise<BookingOutcome[]> {
  await checkParticipant(tx, participantId);
  const sessions = await targetSessions(tx, target, ctx.now);
  const outcomes: BookingOutcome[] = [];
  for (const session of sessions) {
    const { capacity } = await activityGate(tx, session.activityId);
    const outcome = await bookOne(tx, session, participantId, capacity, ctx);
    if (outcome.created) await replanSession(tx, session.id, ctx.now, replanOpts(ctx));
    outcomes.push(outcome);
  }
  await planJourney(tx, participantId, journeyOpts(ctx));
  return outcomes;
}

export interface CancelOutcome {
  booking: Booking;
  /** Waitlisted bookings that took the freed seat. */
  promoted: Booking[];
}

/** Locks the booking's session, then the booking: the same order as booking, so no deadlock. */
async function lockBooking(
  tx: Db,
  bookingId: string,
): Promise<{ session: Session; booking: Booking }> {
  const { rows: found } = await tx.query<{ sessionId: string }>(
    'SELECT session_id AS "sessionId" FROM bookings WHERE id = $1',
    [bookingId],
  );
  if (!found[0]) throw new BookingError('booking_not_found', `no booking ${bookingId}`);
  const session = await lockSession(tx, found[0].sessionId);
  const { rows } = await tx.query<Booking>(
    `SELECT ${BOOKING_SELECT} FROM bookings WHERE id = $1 FOR UPDATE`,
    [bookingId],
  );
  return { session, booking: rows[0]! };
}

async function capacityOf(tx: Db, activityId: string): Promise<number | null> {
  const { rows } = await tx.query<{ capacity: number | null }>(
    'SELECT capacity FROM activities WHERE id = $1',
    [activityId],
  );
  return rows[0]?.capacity ?? null;
}

/** Cancels a booking (idempotent), gives its seat to the waiting list, re-plans. */
export async function cancelBooking(
  tx: Db,
  bookingId: string,
  ctx: BookingCtx,
): Promise<CancelOutcome> {
  const { session, booking: current } = await lockBooking(tx, bookingId);
  if (current.status === 'cancelled') return { booking: current, promoted: [] };
  if (current.status === 'attended' || current.status === 'absent') {
    throw new BookingError('booking_closed', `attendance is already marked ${current.status}`);
  }
  const { rows } = await tx.query<Booking>(
    `UPDATE bookings SET status = 'cancelled', cancelled_at = now(), changed_by = $2,
       version = version + 1 WHERE id = $1 RETURNING ${BOOKING_SELECT}`,
    [bookingId, ctx.actor],
  );
  const booking = rows[0]!;
  await audit(tx, 'booking.cancelled', booking, ctx);
  const open = session.status !== 'cancelled' && session.startsAt > ctx.now;
  const capacity = await capacityOf(tx, session.activityId);
  const promoted = open ? await promoteWaitlisted(tx, session, capacity, ctx) : [];
  await replanSession(tx, session.id, ctx.now, replanOpts(ctx));
  await planJourney(tx, booking.participantId, journeyOpts(ctx));
  return { booking, promoted };
}

export async function getBooking(db: Db, id: string): Promise<Booking | null> {
  const { rows } = await db.query<Booking>(`SELECT ${BOOKING_SELECT} FROM bookings WHERE id = $1`, [
    id,
  ]);
  return rows[0] ?? null;
}
