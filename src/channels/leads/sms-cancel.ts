/**
 * A lead with only a phone cancels their next session by SMS, in two steps:
 *
 * 1. "CANCEL NEXT" (or the lead's word, keyword list `lead_cancel`; English always understood)
 *    answers with what would be cancelled and a 4-digit code: "To cancel Walking Football on
 *    Tuesday 8/12 at 10:00 and text the 12 booked, reply CANCEL 4821". Nothing changes.
 *    Not "CANCEL" alone: Twilio treats it as STOP and would block every text to the lead.
 * 2. "CANCEL 4821" cancels that session through the same domain path as the Slack modal and
 *    the admin API (cancelSession: reminders withdrawn, each booked participant texted the
 *    session-change notice in their language, once), and confirms to the lead.
 *
 * The code is derived from the session's id and version, so it holds no state (no table, no
 * migration) and goes stale by itself: once the session is cancelled or moved, or after any
 * other change, the old code matches nothing and the lead is told to ask again. A repeated
 * confirmation therefore cancels nothing twice. Only the lead's own sessions that have not
 * started are candidates; the next one is the one offered.
 */
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';
import { inBookingTx, jobEffects } from '../../domain/booking/changes.js';
import { cancelSession, lockSession } from '../../domain/booking/sessions.js';
import { normalize } from '../../engine/index.js';
import { noEffects } from '../../runner/effects.js';
import type { Db } from '../../store/db.js';
import { type LeadDeps, type LeadTexts, leadText } from './roster.js';
import { sessionNotices } from './session-change.js';

/** The confirmation code of one version of a session: 4 digits. */
export function cancelCode(sessionId: string, version: number): string {
  const n = createHash('sha256').update(`${sessionId}:v${version}`).digest().readUInt32BE(0);
  return String(n % 10_000).padStart(4, '0');
}

/**
 * "CANCEL NEXT" (a phrase of the list) -> { code: null }; "CANCEL 4821" (a phrase's first word
 * and the code) -> { code: '4821' }; anything else: null. A bare "CANCEL" is not ours: it is
 * Twilio's opt-out keyword, so the English command has two words.
 */
export function parseCancel(
  body: string,
  words: readonly string[],
): { code: string | null } | null {
  const t = normalize(body);
  if (words.includes(t)) return { code: null };
  const m = /^(\S+) (\d{4})$/.exec(t);
  if (m && words.some((w) => w.split(' ')[0] === m[1])) return { code: m[2]! };
  return null;
}

export function cancelWords(t: LeadTexts, lang: string): string[] {
  return [...new Set([lang, 'en'])]
    .flatMap((l) => t.locales[l]?.keywords.lead_cancel ?? [])
    .map(normalize);
}

interface Candidate {
  id: string;
  version: number;
  activity: string;
  starts_at: Date;
  tz: string;
  booked: number;
}

/** The lead's sessions that have not started and are not cancelled, soonest first. */
async function candidates(db: Db, phone: string, now: Date): Promise<Candidate[]> {
  const { rows } = await db.query<Candidate>(
    `SELECT s.id, s.version, a.name AS activity, s.starts_at, a.tz,
       (SELECT count(*)::int FROM bookings b WHERE b.session_id = s.id
          AND b.status IN ('booked', 'confirmed')) AS booked
     FROM sessions s JOIN activities a ON a.id = s.activity_id
     WHERE a.lead_phone = $1 AND s.status <> 'cancelled' AND s.starts_at > $2
     ORDER BY s.starts_at, s.id LIMIT 50`,
    [phone, now],
  );
  return rows;
}

/**
 * Handles a lead's CANCEL text; returns the reply to send them, or null when the text is not
 * a cancel request (then it is an attendance reply).
 */
export async function leadSmsCancel(
  deps: LeadDeps,
  from: string,
  body: string,
  lang: string,
): Promise<string | null> {
  const req = parseCancel(body, cancelWords(deps, lang));
  if (!req) return null;
  const say = (key: string, values: Record<string, string | number> = {}) =>
    leadText(deps, lang, key, values);
  const when = (c: Candidate) => {
    const t = DateTime.fromJSDate(c.starts_at).setZone(c.tz);
    return {
      activity: c.activity,
      day: say('lead.on_day', { weekday: t.weekday, date: t.toFormat('d/M') }),
      time: t.toFormat('HH:mm'),
    };
  };
  const now = deps.now();
  const all = await candidates(deps.db, from, now);
  if (req.code === null) {
    const next = all[0];
    if (!next) return say('lead.sms_cancel_none');
    return say('lead.sms_cancel_confirm', {
      ...when(next),
      count: next.booked,
      code: cancelCode(next.id, next.version),
    });
  }
  const matching = all.filter((c) => cancelCode(c.id, c.version) === req.code);
  // No match (a stale code), or two sessions sharing one (1 in 10,000): ask again.
  if (matching.length !== 1) return say('lead.sms_cancel_stale');
  const target = matching[0]!;
  const out = await inBookingTx(
    deps.db,
    {
      now,
      actor: 'lead:sms',
      // The service's policy: the replan keeps the configured reminder times.
      ...(deps.policy === undefined ? {} : { policy: deps.policy }),
      afterCommit: [(changes) => deps.sink({ ...noEffects(), ...jobEffects(changes) })],
      notices: sessionNotices(deps, (sends) => deps.sink({ ...noEffects(), sends })),
      onHookError: (err) =>
        deps.logger.warn({ reason: (err as Error).message }, 'lead SMS cancel hook failed'),
    },
    async (tx, ctx) => {
      // Compare-and-set: the code was for this version; anything since makes it stale.
      const current = await lockSession(tx, target.id);
      if (current.version !== target.version || current.status === 'cancelled') return null;
      if (current.startsAt <= now) return null;
      await cancelSession(tx, target.id, null, ctx);
      return ctx.notices?.sends.length ?? 0;
    },
  );
  if (out === null) return say('lead.sms_cancel_stale');
  return say('lead.sms_cancelled', { ...when(target), count: out });
}
