import { z } from 'zod';
import type { Db } from '../../store/db.js';

const LEASE_MS = 60_000;
export const MAX_ATTEMPTS = 5;

const eventBody = z
  .object({ type: z.literal('event_callback'), event_id: z.string().min(1) })
  .loose();
const actionBody = z
  .object({
    type: z.literal('block_actions'),
    user: z.object({ id: z.string() }).loose(),
    actions: z.array(z.object({ action_id: z.string(), action_ts: z.string() }).loose()).min(1),
  })
  .loose();

const commandBody = z.object({ command: z.string().min(1), trigger_id: z.string().min(1) }).loose();
const viewBody = z
  .object({ type: z.literal('view_submission'), trigger_id: z.string().min(1) })
  .loose();

/**
 * What a request is deduplicated on: an event's `event_id` (the same on every Slack retry),
 * an action's user + action_id + action_ts. Never the retry header: a retry after our own
 * failure must still be handled. A slash command or a modal's submission: its trigger_id
 * (a fresh one each time the person acts).
 */
export function inboxKey(
  body: unknown,
): { id: string; kind: 'event' | 'action' | 'command' | 'view' } | null {
  const e = eventBody.safeParse(body);
  if (e.success) return { id: `event:${e.data.event_id}`, kind: 'event' };
  const a = actionBody.safeParse(body);
  if (a.success) {
    const first = a.data.actions[0]!;
    return { id: `action:${a.data.user.id}:${first.action_id}:${first.action_ts}`, kind: 'action' };
  }
  const c = commandBody.safeParse(body);
  if (c.success) return { id: `command:${c.data.trigger_id}`, kind: 'command' };
  const v = viewBody.safeParse(body);
  if (v.success) return { id: `view:${v.data.trigger_id}`, kind: 'view' };
  return null;
}

/**
 * Stores the request and takes it for processing. False: already processed, or being
 * processed right now (a duplicate). A row left by a failed attempt is taken again.
 */
export async function takeInbox(
  db: Db,
  key: { id: string; kind: string },
  body: unknown,
  now: Date,
): Promise<boolean> {
  const { rows } = await db.query<{ attempts: number }>(
    `INSERT INTO slack_inbox (id, kind, body, attempts, lease_until) VALUES ($1, $2, $3, 1, $4)
     ON CONFLICT (id) DO UPDATE SET attempts = slack_inbox.attempts + 1, lease_until = excluded.lease_until
       WHERE slack_inbox.processed_at IS NULL AND (slack_inbox.lease_until IS NULL OR slack_inbox.lease_until < $5)
     RETURNING attempts`,
    [key.id, key.kind, JSON.stringify(body), new Date(now.getTime() + LEASE_MS), now],
  );
  return rows.length > 0;
}

export async function inboxDone(db: Db, id: string): Promise<void> {
  await db.query(
    'UPDATE slack_inbox SET processed_at = now(), body = NULL, lease_until = NULL, error = NULL WHERE id = $1',
    [id],
  );
}

/**
 * The delays before the next try of a request whose processing failed once, twice, three
 * times, then more: the last try comes about 90 s after the first (time for a hand-off's
 * parent post whose process died mid-call to have its ts stored by then).
 */
export const RETRY_DELAYS_MS = [1_000, 5_000, 20_000, 60_000];

export function retryDelayMs(attempts: number): number {
  const i = Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1;
  return RETRY_DELAYS_MS[i] ?? 60_000;
}

/**
 * Records a failed attempt and when the next try is due; the attempts so far (MAX_ATTEMPTS
 * or more: given up, nothing tries it again).
 */
export async function inboxFailed(db: Db, id: string, reason: string, now: Date): Promise<number> {
  const { rows } = await db.query<{ attempts: number }>(
    `UPDATE slack_inbox SET lease_until = NULL, error = $2,
       retry_at = $3::timestamptz
         + ($4::int[])[least(greatest(attempts, 1), $5)] * interval '1 millisecond'
     WHERE id = $1 RETURNING attempts`,
    [id, reason.slice(0, 200), now, RETRY_DELAYS_MS, RETRY_DELAYS_MS.length],
  );
  return rows[0]?.attempts ?? MAX_ATTEMPTS;
}

/** How soon a reply held behind an earlier one of its thread is tried again. */
export const HELD_RETRY_MS = 1_000;

/**
 * A thread reply held back while an earlier one of its thread is still to be processed: not
 * a failure, so the attempt is not counted (a reply never runs out of attempts by waiting).
 */
export async function inboxHeld(db: Db, id: string, now: Date): Promise<void> {
  await db.query(
    `UPDATE slack_inbox SET lease_until = NULL, attempts = greatest(attempts - 1, 0),
       error = 'held: an earlier reply in the thread is pending',
       retry_at = $2::timestamptz + $3 * interval '1 millisecond'
     WHERE id = $1 AND processed_at IS NULL`,
    [id, now, HELD_RETRY_MS],
  );
}

/**
 * Takes a stored request for another try by our own retry (a timer or the sweep): its body,
 * or null when it is done, given up, or being processed (a lease another process holds).
 */
export async function takeStored(
  db: Db,
  id: string,
  now: Date,
): Promise<{ kind: string; body: unknown } | null> {
  const { rows } = await db.query<{ kind: string; body: unknown }>(
    `UPDATE slack_inbox SET attempts = attempts + 1, lease_until = $2
     WHERE id = $1 AND processed_at IS NULL AND body IS NOT NULL AND kind IN ('event', 'action')
       AND attempts < $4 AND (lease_until IS NULL OR lease_until < $3)
     RETURNING kind, body`,
    [id, new Date(now.getTime() + LEASE_MS), now, MAX_ATTEMPTS],
  );
  return rows[0] ?? null;
}

/** How long an earlier reply that is still pending holds the later ones of its thread. */
export const HOLD_LIMIT_SECONDS = 180;

const SLACK_TS = /^\d{1,12}\.\d{1,9}$/;

/**
 * The dedupe key of the SMS a thread reply becomes (earlierReplyPending builds the same in SQL).
 */
export function replySmsKey(channel: string, ts: string): string {
  return `slack:${channel}:${ts}`;
}

/**
 * An earlier link-worker message of this thread (by Slack ts) that is stored but not
 * processed yet, and not given up: being processed (its SMS not stored yet), failed and due
 * for another try, or held itself. Its event id, or null. A reply waits for it so the
 * participant gets a thread's replies in the order they were written, whichever process
 * handles which. Bounded: an event that used its attempts (and holds no lease), or arrived
 * more than HOLD_LIMIT_SECONDS ago (database time), holds nothing.
 */
export async function earlierReplyPending(
  db: Db,
  r: { channel: string; threadTs: string; ts: string },
  now: Date,
): Promise<string | null> {
  if (!SLACK_TS.test(r.ts)) return null;
  const { rows } = await db.query<{ id: string }>(
    `SELECT i.id FROM slack_inbox i
     WHERE i.processed_at IS NULL AND i.received_at > now() - $5 * interval '1 second'
       AND i.kind = 'event' AND i.body IS NOT NULL
       AND i.body->'event'->>'type' = 'message'
       AND i.body->'event'->>'channel' = $1 AND i.body->'event'->>'thread_ts' = $2
       AND i.body->'event'->>'subtype' IS NULL AND i.body->'event'->>'bot_id' IS NULL
       AND (CASE WHEN i.body->'event'->>'ts' ~ '^[0-9]{1,12}[.][0-9]{1,9}$'
              THEN (i.body->'event'->>'ts')::numeric END) < $3::numeric
       AND (i.attempts < $4 OR i.lease_until > $6)
       AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.dedupe_key =
         'slack:' || (i.body->'event'->>'channel') || ':' || (i.body->'event'->>'ts'))
     ORDER BY i.received_at LIMIT 1`,
    [r.channel, r.threadTs, r.ts, MAX_ATTEMPTS, HOLD_LIMIT_SECONDS, now],
  );
  return rows[0]?.id ?? null;
}

/**
 * Requests whose processing failed after they were acknowledged, to run again (their next
 * try is due, and nobody holds them). Not slash commands or modal submissions: their
 * trigger_id and answer are gone by then, and the person saw the failure and can try again.
 * A request whose process died mid-way has no retry_at: due 30 s after it arrived.
 */
export async function retryable(db: Db, now: Date): Promise<{ id: string }[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM slack_inbox WHERE processed_at IS NULL AND body IS NOT NULL
       AND kind IN ('event', 'action')
       AND attempts < $2 AND (lease_until IS NULL OR lease_until < $1)
       AND coalesce(retry_at, received_at + interval '30 seconds') <= $1
     ORDER BY received_at LIMIT 50`,
    [now, MAX_ATTEMPTS],
  );
  return rows;
}
