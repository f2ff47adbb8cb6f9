import type { Db } from '../../store/db.js';

export type Attendance = 'attended' | 'absent';

export interface MarkAttendance {
  bookingId: string;
  status: Attendance;
  /** 'lead:<slack id>', 'lead:sms', 'link_worker:<id>'... */
  by: string;
  /** Compare-and-set: only if the booking is still at this version (a button's version). */
  expectedVersion?: number;
}

export type MarkOutcome =
  | { kind: 'marked'; participantId: string; version: number; previous: string }
  | { kind: 'unchanged'; participantId: string; version: number }
  | { kind: 'stale'; status: string; version: number }
  | { kind: 'not_markable'; status: string }
  | { kind: 'not_found' };

const MARKABLE = ['booked', 'confirmed', 'attended', 'absent'];

/**
 * Marks attendance on a booking in the caller's transaction: versioned (each change bumps
 * the version), idempotent (marking what is already marked changes nothing and reports
 * `unchanged`, so a double click or a repeated reply does not start a second follow-up), and
 * compare-and-set when the caller gives the version it saw. Cancelled and waitlisted
 * bookings cannot be marked.
 */
export async function markAttendance(tx: Db, m: MarkAttendance): Promise<MarkOutcome> {
  const { rows } = await tx.query<{ participant_id: string; status: string; version: number }>(
    'SELECT participant_id, status, version FROM bookings WHERE id = $1 FOR UPDATE',
    [m.bookingId],
  );
  const b = rows[0];
  if (!b) return { kind: 'not_found' };
  if (!MARKABLE.includes(b.status)) return { kind: 'not_markable', status: b.status };
  if (b.status === m.status)
    return { kind: 'unchanged', participantId: b.participant_id, version: b.version };
  if (m.expectedVersion !== undefined && m.expectedVersion !== b.version)
    return { kind: 'stale', status: b.status, version: b.version };
  const up = await tx.query<{ version: number }>(
    `UPDATE bookings SET status = $2, changed_by = $3, attendance_at = now(),
       version = version + 1, updated_at = now() WHERE id = $1 RETURNING version`,
    [m.bookingId, m.status, m.by],
  );
  return {
    kind: 'marked',
    participantId: b.participant_id,
    version: up.rows[0]!.version,
    previous: b.status,
  };
}
