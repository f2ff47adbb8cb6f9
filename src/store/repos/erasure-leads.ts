import type { Db } from '../db-port.js';

/** The sessions a participant ($1) was on: booked or as a named drop-in. */
const THEIR_SESSIONS = `SELECT session_id FROM bookings WHERE participant_id = $1
  UNION SELECT session_id FROM session_drop_ins WHERE participant_id = $1`;
const THEIR_ACTIVITIES = `SELECT a.lead_phone, a.lead_slack_user FROM activities a
  JOIN sessions s ON s.activity_id = a.id WHERE s.id IN (${THEIR_SESSIONS})`;

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Replaces each whole-word name (any case) with the reference, in every string of a value. */
export function nameSwapper(names: readonly string[], ref: string): <T>(value: T) => T {
  const pattern = new RegExp(
    `(?<![\\p{L}\\p{N}])(?:${names.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`,
    'giu',
  );
  const swap = (v: unknown): unknown => {
    if (typeof v === 'string') return v.replace(pattern, ref);
    if (Array.isArray(v)) return v.map(swap);
    if (v !== null && typeof v === 'object')
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, swap(x)]));
    return v;
  };
  return <T>(value: T) => swap(value) as T;
}

/**
 * The copies we keep of what activity leads were sent (their SMS summaries and nudges,
 * their Slack DMs) name the people on the roster. In the erasure's transaction, before the
 * names are nulled: the participant's first name (and a drop-in name they were added
 * under) becomes their reference in the leads' copies for the activities they were on,
 * as the roster shows anyone who did not consent to their name being shared. Returns the
 * ids of the lead SMS that named them (Twilio's copy is deleted too: erasure-twilio.ts).
 */
export async function pseudonymiseLeadCopies(tx: Db, id: string, ref: string): Promise<string[]> {
  const { rows: named } = await tx.query<{ name: string }>(
    `SELECT first_name AS name FROM participants WHERE id = $1 AND first_name IS NOT NULL
     UNION SELECT first_name FROM session_drop_ins WHERE participant_id = $1 AND first_name IS NOT NULL`,
    [id],
  );
  if (named.length === 0) return [];
  const swap = nameSwapper(
    named.map((n) => n.name),
    ref,
  );
  const sms = await tx.query<{ id: string; body: string }>(
    `SELECT id, body FROM messages WHERE participant_id IS NULL AND body IS NOT NULL
       AND address IN (SELECT lead_phone FROM (${THEIR_ACTIVITIES}) a)`,
    [id],
  );
  const naming: string[] = [];
  for (const m of sms.rows) {
    const body = swap(m.body);
    if (body === m.body) continue;
    naming.push(m.id);
    await tx.query('UPDATE messages SET body = $2 WHERE id = $1', [m.id, body]);
  }
  const posts = await tx.query<{ id: string; payload: unknown }>(
    `SELECT id, payload FROM slack_outbox WHERE thread_key LIKE 'lead:%'
       AND channel IN (SELECT lead_slack_user FROM (${THEIR_ACTIVITIES}) a)`,
    [id],
  );
  for (const p of posts.rows) {
    const payload = swap(p.payload);
    if (JSON.stringify(payload) !== JSON.stringify(p.payload))
      await tx.query('UPDATE slack_outbox SET payload = $2 WHERE id = $1', [
        p.id,
        JSON.stringify(payload),
      ]);
  }
  return naming;
}
