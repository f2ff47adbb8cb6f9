/**
 * Tells every booked participant that their session moved or was cancelled, by SMS, in their
 * own language and zone. Called by moveSession and cancelSession in the transaction that
 * changed the session, so the admin API and a lead's Slack modal send the same notice.
 *
 * - Only bookings that are booked or confirmed (not waitlisted, cancelled or already marked).
 * - Once per participant per change: the outbox row's dedupe key carries the session's
 *   version after the change, so the same change reported twice (a double submit, a retried
 *   request) inserts nothing the second time.
 * - A service message (locales/templates.yaml) of kind 'session_change': not essential, so
 *   it needs consent; an opted-out or unconsented participant, or one without a number, gets
 *   a skipped row with the reason (the send guard re-checks before sending). Nothing at all
 *   is written for an erased participant.
 */
import { DateTime } from 'luxon';
import { type LocaleSet, render, smsCost } from '../../engine/index.js';
import type { Db } from '../../store/db-port.js';
import { insertOutbound } from '../../store/repos/messages.js';
import type { Session } from './rows.js';

export const SESSION_CHANGE_KIND = 'session_change';
/** Ahead of bulk reminders: the news is about a session that may be soon. */
export const SESSION_CHANGE_PRIORITY = 5;

export type SessionChange = 'moved' | 'cancelled';

/** What the notices need besides the transaction; sends are enqueued after commit. */
export interface NoticeCtx {
  locales: LocaleSet;
  defaultLang: string;
  /** Filled with the outbox rows to send once the transaction commits. */
  sends: { id: string; priority: number }[];
  /** Told about a key that rendered with a fallback or not at all (no message text). */
  onRenderProblem?: (detail: { key: string; lang: string; code: string }) => void;
}

interface Recipient {
  participant_id: string;
  phone: string | null;
  lang: string;
  tz: string;
  consent: string;
  opted_out: boolean;
  erased: boolean;
  activity: string;
  place: string | null;
}

async function recipients(tx: Db, sessionId: string): Promise<Recipient[]> {
  const { rows } = await tx.query<Recipient>(
    `SELECT p.id AS participant_id, p.phone, p.preferred_lang AS lang, p.tz, p.consent,
       p.opted_out, p.erased_at IS NOT NULL AS erased,
       coalesce(a.i18n -> p.preferred_lang ->> 'name', a.name) AS activity,
       coalesce(s.location, a.i18n -> p.preferred_lang ->> 'location', a.location) AS place
     FROM bookings b JOIN participants p ON p.id = b.participant_id
     JOIN sessions s ON s.id = b.session_id JOIN activities a ON a.id = s.activity_id
     WHERE b.session_id = $1 AND b.status IN ('booked', 'confirmed')
     ORDER BY b.booked_at, b.id`,
    [sessionId],
  );
  return rows;
}

/** The activity's next live session after this one, for "the next one is on...". */
async function nextSession(tx: Db, s: Session): Promise<Date | null> {
  const { rows } = await tx.query<{ starts_at: Date }>(
    `SELECT starts_at FROM sessions WHERE activity_id = $1 AND id <> $2
       AND status <> 'cancelled' AND starts_at > $3 ORDER BY starts_at LIMIT 1`,
    [s.activityId, s.id, s.startsAt],
  );
  return rows[0]?.starts_at ?? null;
}

const when = (at: Date, zone: string, prefix = '') => {
  const t = DateTime.fromJSDate(at).setZone(zone);
  return {
    [`${prefix}day`]: t.weekday,
    [`${prefix}date`]: t.toFormat('d/M'),
    [`${prefix}time`]: t.toFormat('HH:mm'),
  };
};

function blockedBy(r: Recipient): string | undefined {
  if (r.opted_out) return 'opted_out';
  if (r.phone === null) return 'no_number';
  if (r.consent !== 'given') return 'no_consent';
  return undefined;
}

/**
 * Queues the notice of one change to each booked participant. `before` is when the session
 * started before a move (a moved notice says the new time; a cancelled one the old time).
 */
export async function noticeSessionChange(
  tx: Db,
  session: Session,
  change: SessionChange,
  notices: NoticeCtx,
): Promise<number> {
  const next = change === 'cancelled' ? await nextSession(tx, session) : null;
  const key =
    change === 'moved' ? 'session.moved' : next ? 'session.cancelled_next' : 'session.cancelled';
  let queued = 0;
  for (const r of await recipients(tx, session.id)) {
    if (r.erased) continue;
    const values: Record<string, string | number> = {
      activity: r.activity,
      place: r.place ?? '',
      ...when(session.startsAt, r.tz),
      ...(next ? when(next, r.tz, 'next_') : {}),
    };
    const rendered = render(notices.locales, key, values, r.lang, notices.defaultLang);
    for (const e of rendered.ok ? rendered.errors : [])
      notices.onRenderProblem?.({ key, lang: r.lang, code: e.code });
    if (!rendered.ok) {
      notices.onRenderProblem?.({ key, lang: r.lang, code: 'not_rendered' });
      continue;
    }
    const cost = smsCost(rendered.text);
    const blocked = blockedBy(r);
    const { inserted, message } = await insertOutbound(tx, {
      channel: 'sms',
      participantId: r.participant_id,
      address: r.phone,
      body: rendered.text,
      encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
      segments: cost.segments,
      templateKey: key,
      kind: SESSION_CHANGE_KIND,
      priority: SESSION_CHANGE_PRIORITY,
      dedupeKey: `session-${change}:${session.id}:v${session.version}:${r.participant_id}`,
      ...(blocked ? { skipReason: blocked } : {}),
    });
    if (inserted && !blocked) {
      notices.sends.push({ id: message.id, priority: SESSION_CHANGE_PRIORITY });
      queued += 1;
    }
  }
  return queued;
}
