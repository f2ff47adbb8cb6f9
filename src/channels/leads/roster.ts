import { DateTime } from 'luxon';
import type { Db } from '../../store/db.js';

export interface SessionInfo {
  sessionId: string;
  activityName: string;
  location: string | null;
  startsAt: Date;
  tz: string;
  leadSlackUser: string | null;
  leadPhone: string | null;
}

export interface RosterEntry {
  /** 1-based, stable: the number a lead replies with by SMS. */
  n: number;
  bookingId: string;
  participantId: string;
  status: string;
  version: number;
  /** First name if the participant consented, else their reference. */
  label: string;
}

export async function sessionInfo(db: Db, sessionId: string): Promise<SessionInfo | null> {
  const { rows } = await db.query<SessionInfo>(
    `SELECT s.id AS "sessionId", a.name AS "activityName", coalesce(s.location, a.location) AS location,
       s.starts_at AS "startsAt", a.tz, a.lead_slack_user AS "leadSlackUser", a.lead_phone AS "leadPhone"
     FROM sessions s JOIN activities a ON a.id = s.activity_id WHERE s.id = $1`,
    [sessionId],
  );
  return rows[0] ?? null;
}

/** The booked people of a session (not waitlisted, not cancelled), numbered in booking order. */
export async function roster(db: Db, sessionId: string): Promise<RosterEntry[]> {
  const { rows } = await db.query<{
    id: string;
    participant_id: string;
    status: string;
    version: number;
    first_name: string | null;
    consent: string;
    ref: string;
  }>(
    `SELECT b.id, b.participant_id, b.status, b.version, p.first_name, p.consent, p.ref
     FROM bookings b JOIN participants p ON p.id = b.participant_id
     WHERE b.session_id = $1 AND b.status NOT IN ('cancelled', 'waitlisted')
     ORDER BY b.booked_at, b.id`,
    [sessionId],
  );
  return rows.map((r, i) => ({
    n: i + 1,
    bookingId: r.id,
    participantId: r.participant_id,
    status: r.status,
    version: r.version,
    label: r.consent === 'given' && r.first_name ? r.first_name : r.ref,
  }));
}

/** "Tomorrow 10:00 Walking Football at Stretford Hall: 8 booked: 6 confirmed, 1 cancelled, 1 no reply" */
export async function summaryText(db: Db, s: SessionInfo, now: Date): Promise<string> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM bookings WHERE session_id = $1 AND status <> 'waitlisted' GROUP BY status`,
    [s.sessionId],
  );
  const count = (st: string) => Number(rows.find((r) => r.status === st)?.n ?? 0);
  const total = rows.reduce((a, r) => a + Number(r.n), 0);
  const start = DateTime.fromJSDate(s.startsAt).setZone(s.tz);
  const today = DateTime.fromJSDate(now).setZone(s.tz).startOf('day');
  const diff = Math.round(start.startOf('day').diff(today, 'days').days);
  const day = diff === 1 ? 'Tomorrow' : diff === 0 ? 'Today' : start.toFormat('cccc d LLL');
  const where = s.location ? ` at ${s.location}` : '';
  return `${day} ${start.toFormat('HH:mm')} ${s.activityName}${where}: ${total} booked: ${count('confirmed')} confirmed, ${count('cancelled')} cancelled, ${count('booked')} no reply`;
}
