import type { Db } from '../store/db.js';

/** Waiting longer than this for a participant's lock fails the job (it is retried). */
const LOCK_TIMEOUT = '15s';

/**
 * The participant's lock: a transaction-scoped PostgreSQL advisory lock. Only one
 * transaction at a time, in any worker process, handles a participant; different
 * participants run in parallel. A crashed holder's connection drops and its lock with it,
 * so nobody waits for more than the lock timeout. One round trip: the timeout is set (for
 * this transaction only) in the subquery, which PostgreSQL evaluates before the lock.
 */
export async function lockParticipant(tx: Db, participantId: string): Promise<void> {
  await tx.query(
    `SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))
     FROM (SELECT set_config('lock_timeout', $2, true)) AS t`,
    [participantId, LOCK_TIMEOUT],
  );
}

/**
 * Looks up a timer's participant and takes their lock, in one round trip (the hot path of
 * a reminder burst). Returns the participant id, or null for a timer with none (no lock
 * taken) or no such timer (undefined).
 */
export async function lockItemParticipant(
  tx: Db,
  itemId: string,
): Promise<string | null | undefined> {
  const { rows } = await tx.query<{ participant_id: string | null }>(
    `SELECT s.participant_id,
       CASE WHEN s.participant_id IS NOT NULL
         THEN pg_advisory_xact_lock(hashtextextended('participant:' || s.participant_id::text, 0)) END
     FROM (SELECT participant_id, set_config('lock_timeout', $2, true) AS t
           FROM scheduled_items WHERE id = $1) AS s`,
    [itemId, LOCK_TIMEOUT],
  );
  return rows[0] ? rows[0].participant_id : undefined;
}
