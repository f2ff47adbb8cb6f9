import { DateTime } from 'luxon';
import type { Db } from '../../../store/db.js';
import { escapeMrkdwn } from '../handoff-card.js';

/** A participant as link worker tools show them: a reference, never the phone number. */
export interface ToolParticipant {
  id: string;
  ref: string;
  /** Only when the participant consented; null otherwise. */
  firstName: string | null;
  lang: string;
  consent: string;
  optedOut: boolean;
  /** "Please stop texting me": reminders paused until START or `/linkline resume`. */
  remindersPaused: boolean;
  linkWorker: string | null;
  linkWorkerName: string | null;
}

const REF = /^P-[0-9A-Z]{4,8}$/;

const SELECT = `SELECT p.id, p.ref,
    CASE WHEN p.consent = 'given' THEN p.first_name END AS "firstName",
    p.preferred_lang AS lang, p.consent, p.opted_out AS "optedOut",
    'reminders_paused' = ANY (p.tags) AS "remindersPaused",
    p.assigned_link_worker AS "linkWorker", lw.name AS "linkWorkerName"
  FROM participants p LEFT JOIN link_workers lw ON lw.slack_user_id = p.assigned_link_worker
  WHERE p.erased_at IS NULL`;

export const isRef = (text: string): boolean => REF.test(text.trim().toUpperCase());

export async function participantByRef(db: Db, ref: string): Promise<ToolParticipant | null> {
  const { rows } = await db.query<ToolParticipant>(`${SELECT} AND p.ref = $1`, [
    ref.trim().toUpperCase(),
  ]);
  return rows[0] ?? null;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * By reference (P-...) or by first name: only names given with consent, case-insensitive,
 * any part of the name. At most `limit`, by reference.
 */
export async function findParticipants(
  db: Db,
  query: string,
  limit = 10,
): Promise<ToolParticipant[]> {
  const q = query.trim();
  if (q === '') return [];
  if (isRef(q)) {
    const p = await participantByRef(db, q);
    return p ? [p] : [];
  }
  const { rows } = await db.query<ToolParticipant>(
    `${SELECT} AND p.consent = 'given' AND p.first_name ILIKE $1 ESCAPE '\\'
     ORDER BY p.ref LIMIT $2`,
    [`%${likeEscape(q.slice(0, 100))}%`, limit],
  );
  return rows;
}

export interface BookingLine {
  activity: string;
  startsAt: Date;
  status: string;
}

export interface ParticipantSummary {
  upcoming: BookingLine[];
  lastAttended: BookingLine | null;
}

export async function participantSummary(
  db: Db,
  participantId: string,
  now: Date,
): Promise<ParticipantSummary> {
  const { rows: upcoming } = await db.query<BookingLine>(
    `SELECT a.name AS activity, s.starts_at AS "startsAt", b.status
     FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.participant_id = $1 AND b.status IN ('booked', 'confirmed', 'waitlisted')
       AND s.status <> 'cancelled' AND s.starts_at > $2
     ORDER BY s.starts_at LIMIT 5`,
    [participantId, now],
  );
  const { rows: attended } = await db.query<BookingLine>(
    `SELECT a.name AS activity, s.starts_at AS "startsAt", b.status
     FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.participant_id = $1 AND b.status = 'attended'
     ORDER BY s.starts_at DESC LIMIT 1`,
    [participantId],
  );
  return { upcoming, lastAttended: attended[0] ?? null };
}

/** "Tue 8 Dec 10:00" in the service's zone. */
export const when = (d: Date, tz: string): string =>
  DateTime.fromJSDate(d, { zone: tz }).toFormat('ccc d LLL HH:mm');

let languages: Intl.DisplayNames | null = null;

/** "Welsh (cy)"; the code alone when the runtime does not know it. */
export function languageName(code: string): string {
  try {
    languages ??= new Intl.DisplayNames(['en'], { type: 'language' });
    const name = languages.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  } catch {
    return code;
  }
}

/** "*P-7K3Q* (Ann)": the reference, and the first name only with consent. */
export const who = (p: { ref: string; firstName: string | null }): string =>
  `*${p.ref}*${p.firstName ? ` (${escapeMrkdwn(p.firstName)})` : ''}`;

const STATUS: Record<string, string> = {
  booked: 'booked',
  confirmed: 'confirmed',
  waitlisted: 'on the waiting list',
};

/** The mrkdwn lines of a find result. */
export function summaryText(p: ToolParticipant, s: ParticipantSummary, tz: string): string {
  const lines = [
    who(p),
    `Language: ${languageName(p.lang)}`,
    `Link worker: ${p.linkWorker ? `<@${p.linkWorker}>` : 'not assigned'}`,
  ];
  if (p.optedOut) lines.push('Opted out of texts (STOP): Linkline does not text them.');
  else if (p.consent !== 'given') lines.push('No consent to be contacted yet.');
  else if (p.remindersPaused)
    lines.push(
      `Reminders paused (they asked Linkline to stop texting): \`/linkline resume ${p.ref}\` turns them back on.`,
    );
  lines.push(
    s.upcoming.length === 0
      ? 'Bookings: none coming up'
      : `Bookings: ${s.upcoming
          .map(
            (b) =>
              `${escapeMrkdwn(b.activity)} ${when(b.startsAt, tz)} (${STATUS[b.status] ?? b.status})`,
          )
          .join('; ')}`,
  );
  lines.push(
    s.lastAttended
      ? `Last attended: ${escapeMrkdwn(s.lastAttended.activity)} ${when(s.lastAttended.startsAt, tz)}`
      : 'Last attended: no attendance yet',
  );
  return lines.join('\n');
}
