import type { Db } from '../store/db.js';

/**
 * The participant's lock: a transaction-scoped PostgreSQL advisory lock. Only one
 * transaction at a time, in any worker process, handles a participant; different
 * participants run in parallel. A crashed holder's connection drops and its lock with it,
 * so nobody waits for more than the lock timeout.
 */
export async function lockParticipant(tx: Db, participantId: string): Promise<void> {
  if (tx.kind === 'pg') await tx.query("SET LOCAL lock_timeout = '15s'");
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))", [
    participantId,
  ]);
}
