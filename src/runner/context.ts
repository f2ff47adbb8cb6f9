import { DateTime } from 'luxon';
import type { Db } from '../store/db.js';
import type { Participant } from '../store/repos/participants.js';

/** What a flow can read about a participant: snake_case, no phone number. */
export function participantContext(p: Participant): Record<string, unknown> & {
  tags: string[];
  fields: Record<string, unknown>;
} {
  return {
    ref: p.ref,
    first_name: p.firstName ?? undefined,
    preferred_lang: p.preferredLang,
    tz: p.tz,
    consent: p.consent,
    best_time: p.bestTime ?? undefined,
    primary_reason: p.primaryReason ?? undefined,
    digital_access: p.digitalAccess ?? undefined,
    tags: p.tags,
    fields: p.fields,
  };
}

export interface BookingRow {
  booking_id: string;
  booking_status: string;
  session_id: string;
  session_status: string;
  starts_at: Date;
  ends_at: Date;
  activity_id: string;
  name: string;
  description: string | null;
  location: string | null;
  what_to_bring: string | null;
  greeter: string | null;
  /** The activity's next session after this one, not cancelled. */
  next_starts_at: Date | null;
  /** Statuses of the participant's last 10 bookings up to this session, newest first. */
  recent: string[];
}

export type BookingContext = {
  booking: Record<string, unknown>;
  session: Record<string, unknown>;
  activity: Record<string, unknown>;
};

/** Booking, session and activity variables for a reminder, in the participant's zone. */
export async function bookingContext(
  db: Db,
  bookingId: string,
  zone: string,
): Promise<BookingContext | null> {
  return (await bookingState(db, bookingId, zone))?.ctx ?? null;
}

/**
 * The booking's context plus its session's state (what a reminder checks), in one round
 * trip: the hot path of a reminder burst. Times are compared in SQL (microseconds), not
 * with the JavaScript Date (milliseconds).
 */
export async function bookingState(
  db: Db,
  bookingId: string,
  zone: string,
): Promise<BookingState | null> {
  const row = (await bookingRows(db, [bookingId])).get(bookingId);
  return row ? toBookingState(row, zone) : null;
}

export type BookingState = { ctx: BookingContext; sessionStatus: string; startsAt: Date };

/** The rows behind bookingState for several bookings in one round trip, by booking id. */
export async function bookingRows(
  db: Db,
  bookingIds: readonly string[],
): Promise<Map<string, BookingRow>> {
  if (bookingIds.length === 0) return new Map();
  const { rows } = await db.query<BookingRow>(
    `SELECT b.id AS booking_id, b.status AS booking_status, s.id AS session_id, s.status AS session_status,
       s.starts_at, s.ends_at, a.id AS activity_id, a.name, a.description, a.location, a.what_to_bring, a.greeter,
       (SELECT n.starts_at FROM sessions n WHERE n.activity_id = a.id AND n.starts_at > s.starts_at
          AND n.status <> 'cancelled' ORDER BY n.starts_at LIMIT 1) AS next_starts_at,
       ARRAY(SELECT rb.status FROM bookings rb JOIN sessions rs ON rs.id = rb.session_id
          WHERE rb.participant_id = b.participant_id AND rs.starts_at <= s.starts_at
            AND rb.status NOT IN ('cancelled', 'waitlisted')
          ORDER BY rs.starts_at DESC LIMIT 10) AS recent
     FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.id = ANY($1::uuid[])`,
    [[...new Set(bookingIds)]],
  );
  return new Map(rows.map((r) => [r.booking_id, r]));
}

export function toBookingState(r: BookingRow, zone: string): BookingState {
  const start = DateTime.fromJSDate(r.starts_at).setZone(zone);
  let misses = 0;
  for (const status of r.recent) {
    if (status !== 'absent') break;
    misses += 1;
  }
  const at = r.next_starts_at ? DateTime.fromJSDate(r.next_starts_at).setZone(zone) : null;
  const more = {
    misses_in_row: misses,
    ...(at
      ? {
          next_weekday: at.weekday,
          next_day_month: at.toFormat('d/M'),
          next_time: at.toFormat('HH:mm'),
        }
      : {}),
  };
  return {
    sessionStatus: r.session_status,
    startsAt: r.starts_at,
    ctx: {
      booking: { id: r.booking_id, status: r.booking_status, ...more },
      session: {
        id: r.session_id,
        time: start.toFormat('HH:mm'),
        date: start.toISODate(),
        day_month: start.toFormat('d/M'),
        weekday: start.weekday,
        minutes: Math.round((r.ends_at.getTime() - r.starts_at.getTime()) / 60_000),
      },
      activity: {
        id: r.activity_id,
        name: r.name,
        description: r.description ?? '',
        location: r.location ?? '',
        what_to_bring: r.what_to_bring ?? '',
        greeter: r.greeter ?? '',
      },
    },
  };
}
