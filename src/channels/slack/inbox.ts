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

export async function inboxFailed(db: Db, id: string, reason: string): Promise<void> {
  await db.query('UPDATE slack_inbox SET lease_until = NULL, error = $2 WHERE id = $1', [
    id,
    reason.slice(0, 200),
  ]);
}

/**
 * Requests whose processing failed after they were acknowledged, to run again. Not slash
 * commands or modal submissions: their trigger_id and answer are gone by then, and the
 * person saw the failure and can try again.
 */
export async function retryable(
  db: Db,
  now: Date,
): Promise<{ id: string; kind: string; body: unknown }[]> {
  const { rows } = await db.query<{ id: string; kind: string; body: unknown }>(
    `SELECT id, kind, body FROM slack_inbox WHERE processed_at IS NULL AND body IS NOT NULL
       AND kind IN ('event', 'action')
       AND attempts < $2 AND (lease_until IS NULL OR lease_until < $1)
       AND received_at < $1::timestamptz - interval '30 seconds'
     ORDER BY received_at LIMIT 50`,
    [now, MAX_ATTEMPTS],
  );
  return rows;
}
