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

interface BookingRow {
  booking_id: string;
  booking_status: string;
  session_id: string;
  starts_at: Date;
  ends_at: Date;
  activity_id: string;
  name: string;
  description: string | null;
  location: string | null;
  what_to_bring: string | null;
  greeter: string | null;
}

/** Booking, session and activity variables for a reminder, in the participant's zone. */
export async function bookingContext(
  db: Db,
  bookingId: string,
  zone: string,
): Promise<{
  booking: Record<string, unknown>;
  session: Record<string, unknown>;
  activity: Record<string, unknown>;
} | null> {
  const { rows } = await db.query<BookingRow>(
    `SELECT b.id AS booking_id, b.status AS booking_status, s.id AS session_id, s.starts_at,
       s.ends_at, a.id AS activity_id, a.name, a.description, a.location, a.what_to_bring, a.greeter
     FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.id = $1`,
    [bookingId],
  );
  const r = rows[0];
  if (!r) return null;
  const start = DateTime.fromJSDate(r.starts_at).setZone(zone);
  const more = await followUpContext(db, bookingId, r.activity_id, zone);
  return {
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
  };
}

/**
 * What the reminder and missed-session flows need besides the booking: the activity's next
 * session after this one (offered to someone who cannot come), and how many of the
 * participant's sessions up to this one in a row were marked absent.
 */
async function followUpContext(
  db: Db,
  bookingId: string,
  activityId: string,
  zone: string,
): Promise<Record<string, unknown>> {
  // Compared in SQL (microseconds), not with the JavaScript Date (milliseconds).
  const own = `(SELECT s0.starts_at FROM bookings b0 JOIN sessions s0 ON s0.id = b0.session_id
                WHERE b0.id = $1)`;
  const next = await db.query<{ starts_at: Date }>(
    `SELECT starts_at FROM sessions WHERE activity_id = $2 AND starts_at > ${own}
       AND status <> 'cancelled' ORDER BY starts_at LIMIT 1`,
    [bookingId, activityId],
  );
  const recent = await db.query<{ status: string }>(
    `SELECT b.status FROM bookings b JOIN sessions s ON s.id = b.session_id
     WHERE b.participant_id = (SELECT participant_id FROM bookings WHERE id = $1)
       AND s.starts_at <= ${own} AND b.status NOT IN ('cancelled', 'waitlisted')
     ORDER BY s.starts_at DESC LIMIT 10`,
    [bookingId],
  );
  let misses = 0;
  for (const row of recent.rows) {
    if (row.status !== 'absent') break;
    misses += 1;
  }
  const at = next.rows[0] ? DateTime.fromJSDate(next.rows[0].starts_at).setZone(zone) : null;
  return {
    misses_in_row: misses,
    ...(at
      ? {
          next_weekday: at.weekday,
          next_day_month: at.toFormat('d/M'),
          next_time: at.toFormat('HH:mm'),
        }
      : {}),
  };
}
