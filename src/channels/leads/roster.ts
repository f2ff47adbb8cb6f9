import { DateTime } from 'luxon';
import { type LocaleSet, render } from '../../engine/index.js';
import type { Db } from '../../store/db.js';
import type { SlackDeps } from '../slack/deps.js';
import { linkWorkerName } from '../slack/handoff-actions.js';

/** What the lead handlers need of the Slack side. */
export type LeadDeps = Pick<
  SlackDeps,
  | 'db'
  | 'sink'
  | 'runner'
  | 'logger'
  | 'flowIds'
  | 'locales'
  | 'defaultLang'
  | 'now'
  | 'cfg'
  | 'policy'
>;

/** The lead's texts come from the locales (lead.* keys), in the activity's lead_lang. */
export interface LeadTexts {
  locales: LocaleSet;
  defaultLang: string;
}

/** A lead text in this language (falling back to the default); never blank. */
export function leadText(
  t: LeadTexts,
  lang: string,
  key: string,
  values: Record<string, string | number> = {},
): string {
  const r = render(t.locales, key, values, lang, t.defaultLang);
  return r.ok ? r.text : key;
}

export interface SessionInfo {
  sessionId: string;
  activityName: string;
  location: string | null;
  startsAt: Date;
  tz: string;
  leadSlackUser: string | null;
  leadPhone: string | null;
  /** The language of the lead's texts (activities.lead_lang, default en). */
  leadLang: string;
  status: string;
  version: number;
  endsAt: Date;
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
       s.starts_at AS "startsAt", s.ends_at AS "endsAt", a.tz, a.lead_slack_user AS "leadSlackUser",
       a.lead_phone AS "leadPhone", a.lead_lang AS "leadLang", s.status, s.version
     FROM sessions s JOIN activities a ON a.id = s.activity_id WHERE s.id = $1`,
    [sessionId],
  );
  return rows[0] ?? null;
}

/**
 * The booked people of a session (not waitlisted, not cancelled, not drop-ins), numbered in
 * booking order.
 */
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
       AND NOT EXISTS (SELECT 1 FROM session_drop_ins d WHERE d.booking_id = b.id)
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
export async function summaryText(
  db: Db,
  s: SessionInfo,
  now: Date,
  t: LeadTexts,
): Promise<string> {
  const { rows } = await db.query<{ status: string; n: string }>(
    `SELECT status, count(*) AS n FROM bookings WHERE session_id = $1 AND status <> 'waitlisted' GROUP BY status`,
    [s.sessionId],
  );
  const count = (st: string) => Number(rows.find((r) => r.status === st)?.n ?? 0);
  const total = rows.reduce((a, r) => a + Number(r.n), 0);
  const start = DateTime.fromJSDate(s.startsAt).setZone(s.tz);
  const today = DateTime.fromJSDate(now).setZone(s.tz).startOf('day');
  const diff = Math.round(start.startOf('day').diff(today, 'days').days);
  const lang = s.leadLang;
  const day =
    diff === 1
      ? leadText(t, lang, 'lead.tomorrow')
      : diff === 0
        ? leadText(t, lang, 'lead.today')
        : leadText(t, lang, 'lead.on_day', { weekday: start.weekday, date: start.toFormat('d/M') });
  return leadText(t, lang, s.location ? 'lead.summary' : 'lead.summary_no_place', {
    day,
    time: start.toFormat('HH:mm'),
    activity: s.activityName,
    place: s.location ?? '',
    total,
    confirmed: count('confirmed'),
    cancelled: count('cancelled'),
    no_reply: count('booked'),
  });
}

/** Only the activity's lead or an active link worker may act on its session. */
export async function mayAct(db: Db, user: string, sessionId: string): Promise<boolean> {
  const s = await sessionInfo(db, sessionId);
  if (!s) return false;
  if (s.leadSlackUser === user) return true;
  return (await linkWorkerName(db, user)) !== null;
}

/** The drop-ins of a session by name, in the order they were added (unnamed ones left out). */
export async function dropInNames(db: Db, sessionId: string): Promise<string[]> {
  const { rows } = await db.query<{ first_name: string }>(
    `SELECT first_name FROM session_drop_ins WHERE session_id = $1 AND first_name IS NOT NULL
     ORDER BY created_at, id`,
    [sessionId],
  );
  return rows.map((r) => r.first_name);
}
