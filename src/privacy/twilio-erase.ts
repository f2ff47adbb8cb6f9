import { TWILIO_HTTP_TIMEOUT_MS } from '../channels/sms/sender.js';
import {
  createTwilioClient,
  type RemoveOutcome,
  removeMessage,
} from '../channels/sms/twilio-client.js';
import type { TwilioConfig } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Db } from '../store/db-port.js';

/**
 * Erasure's second half at Twilio (checklist 88): deletes from Twilio's message log the
 * messages the erasure recorded in `twilio_deletions` (src/store/repos/erasure-twilio.ts),
 * through the sender's own SDK client (`client.messages(sid).remove()`, TWILIO_API_URL
 * honoured). Run by the maintenance job `twilio-erase`: queued after each erasure and every
 * minute (src/scheduler/workers.ts), so a Redis or Twilio outage loses nothing: PostgreSQL
 * holds the rows until Twilio has them gone.
 *
 * Per row: 204 or 404 (already gone): the row is removed. 20009 (Twilio has not finished
 * with the message: queued, sending, sent awaiting its receipt; Twilio asks to wait a minute
 * or more): tried again later. 429, 5xx, network or any other answer: tried again later.
 * Backoff per row: 1 min doubling to 1 h, never given up; a row tried STUCK_AFTER times is
 * named in a warn with `"alert":"twilio_erase_stuck"` (counts only). Rows are claimed with a
 * lease (FOR UPDATE SKIP LOCKED), so several processes share the work without deleting
 * twice. Logs hold counts and codes only: no SID, number or text.
 */

/** The maintenance queue's job name (no data: the job reads `twilio_deletions`). */
export const TWILIO_ERASE_JOB = 'twilio-erase';

export interface MessageRemover {
  remove(sid: string): Promise<RemoveOutcome>;
  close(): void;
}

/** The real SDK remover (a client of its own, like the inbound sweep's). */
export function twilioRemover(config: TwilioConfig): MessageRemover {
  const client = createTwilioClient(config, TWILIO_HTTP_TIMEOUT_MS);
  return { remove: (sid) => removeMessage(client, sid), close: () => client.close() };
}

/** Rows claimed per statement. */
export const ERASE_BATCH = 50;
/** A claimed row is not claimed again for this long (a batch of calls and their timeouts). */
export const ERASE_LEASE_MS = 15 * 60_000;
export const ERASE_BACKOFF_MS = 60_000;
export const ERASE_BACKOFF_MAX_MS = 60 * 60_000;
/** Attempts after which a row is alerted on (about a day at the longest backoff). */
export const STUCK_AFTER = 30;

export interface TwilioEraseDeps {
  db: Db;
  remover: MessageRemover;
  logger: Pick<Logger, 'info' | 'warn'>;
  now?: () => Date;
  batch?: number;
}

export interface TwilioEraseCounts {
  /** Deleted at Twilio now (204). */
  deleted: number;
  /** Already gone at Twilio (404), or never sent (no SID): nothing to delete. */
  gone: number;
  /** Not complete at Twilio yet (20009), or still being sent by us: later. */
  waiting: number;
  /** Twilio unreachable or refusing: later. */
  failed: number;
  /** Rows left to do after this run. */
  pending: number;
}

type Claimed = { id: number; attempts: number; sid: string | null; status: string | null };

export function backoffMs(attempts: number): number {
  return Math.min(ERASE_BACKOFF_MAX_MS, ERASE_BACKOFF_MS * 2 ** Math.max(0, attempts - 1));
}

function claim(db: Db, now: Date, batch: number): Promise<Claimed[]> {
  return db
    .query<Claimed>(
      `WITH due AS (
         SELECT id FROM twilio_deletions WHERE next_at <= $1
         ORDER BY next_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
       UPDATE twilio_deletions d
         SET next_at = $1::timestamptz + $3 * interval '1 millisecond', attempts = d.attempts + 1
       FROM due WHERE d.id = due.id
       RETURNING d.id, d.attempts,
         coalesce(d.sid, (SELECT m.provider_sid FROM messages m WHERE m.id = d.message_id)) AS sid,
         (SELECT m.status FROM messages m WHERE m.id = d.message_id) AS status`,
      [now, batch, ERASE_LEASE_MS],
    )
    .then((r) => r.rows);
}

const done = (db: Db, id: number) => db.query('DELETE FROM twilio_deletions WHERE id = $1', [id]);

function later(db: Db, row: Claimed, now: Date, code: string, waitMs = 0) {
  const ms = Math.max(backoffMs(row.attempts), waitMs);
  return db.query(
    `UPDATE twilio_deletions SET next_at = $2::timestamptz + $3 * interval '1 millisecond',
       last_error = $4 WHERE id = $1`,
    [row.id, now, ms, code.replace(/[^A-Za-z0-9_]/g, '_') || 'unknown'],
  );
}

/** One pass: every row due now, batch by batch, until none is left due. */
export async function deleteAtTwilio(deps: TwilioEraseDeps): Promise<TwilioEraseCounts> {
  const counts = { deleted: 0, gone: 0, waiting: 0, failed: 0, pending: 0 };
  const codes = new Set<string>();
  let stuck = 0;
  const now = deps.now ?? (() => new Date());
  for (;;) {
    const at = now();
    const rows = await claim(deps.db, at, deps.batch ?? ERASE_BATCH);
    if (rows.length === 0) break;
    for (const row of rows) {
      if (row.attempts >= STUCK_AFTER) stuck += 1;
      if (row.sid === null) {
        // Our text was still being sent at erasure: its SID comes with the answer.
        if (row.status === 'sending') {
          counts.waiting += 1;
          await later(deps.db, row, at, 'no_sid_yet');
        } else {
          counts.gone += 1;
          await done(deps.db, row.id);
        }
        continue;
      }
      const outcome = await deps.remover.remove(row.sid);
      if (outcome.kind === 'deleted' || outcome.kind === 'gone') {
        counts[outcome.kind] += 1;
        await done(deps.db, row.id);
      } else if (outcome.kind === 'in_flight') {
        counts.waiting += 1;
        await later(deps.db, row, at, '20009');
      } else {
        counts.failed += 1;
        codes.add(outcome.code);
        await later(deps.db, row, at, outcome.code, outcome.retryAfterMs);
      }
    }
  }
  const left = await deps.db.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM twilio_deletions',
  );
  counts.pending = left.rows[0]?.n ?? 0;
  const tried = counts.deleted + counts.gone + counts.waiting + counts.failed;
  if (tried > 0) deps.logger.info(counts, 'twilio deletions');
  if (counts.failed > 0)
    deps.logger.warn({ failed: counts.failed, codes: [...codes] }, 'twilio deletions failed');
  if (stuck > 0)
    deps.logger.warn(
      { alert: 'twilio_erase_stuck', rows: stuck, attempts: STUCK_AFTER },
      'messages of erased participants still not deleted at Twilio',
    );
  return counts;
}
