import type { Db } from '../db-port.js';

/**
 * In the erasure's transaction (checklist 88): records which of the participant's messages
 * to delete from Twilio's message log, for the job that does it after commit
 * (src/privacy/twilio-erase.ts). Every SMS of theirs with a MessageSid, and every text still
 * being sent (its SID comes later); then the SIDs of raw inbound forms from their number
 * that never became a message, before those forms are deleted. Ids only. Returns how many.
 */
export async function queueTwilioDeletions(
  tx: Db,
  id: string,
  phone: string | null,
): Promise<number> {
  const messages = await tx.query(
    `INSERT INTO twilio_deletions (message_id, sid)
     SELECT id, provider_sid FROM messages
     WHERE participant_id = $1 AND channel = 'sms'
       AND (provider_sid IS NOT NULL OR status = 'sending')
     ON CONFLICT DO NOTHING`,
    [id],
  );
  if (phone === null) return messages.rowCount ?? 0;
  const raw = await tx.query(
    `INSERT INTO twilio_deletions (sid)
     SELECT DISTINCT provider_sid FROM inbound_raw
     WHERE form ->> 'From' = $1 AND provider_sid IS NOT NULL
     ON CONFLICT DO NOTHING`,
    [phone],
  );
  return (messages.rowCount ?? 0) + (raw.rowCount ?? 0);
}

/**
 * Also in the erasure's transaction: the activity leads' SMS summaries that named them
 * (erasure-leads.ts keeps our copy with their reference instead): Twilio's copy still has
 * the name, so it is deleted there. Returns how many were recorded.
 */
export async function queueTwilioDeletionsOf(tx: Db, messageIds: readonly string[]) {
  if (messageIds.length === 0) return 0;
  const { rowCount } = await tx.query(
    `INSERT INTO twilio_deletions (message_id, sid)
     SELECT id, provider_sid FROM messages
     WHERE id = ANY($1::uuid[]) AND channel = 'sms'
       AND (provider_sid IS NOT NULL OR status = 'sending')
     ON CONFLICT DO NOTHING`,
    [messageIds],
  );
  return rowCount ?? 0;
}

/**
 * For `/metrics`: deletions at Twilio still to do, and how many of them have been tried
 * `stuckAfter` times or more (the `twilio_erase_stuck` alert's rows).
 */
export async function twilioDeletionFigures(
  db: Db,
  stuckAfter: number,
): Promise<{ pending: number; stuck: number }> {
  const { rows } = await db.query<{ pending: number; stuck: number }>(
    `SELECT count(*)::int AS pending, count(*) FILTER (WHERE attempts >= $1)::int AS stuck
     FROM twilio_deletions`,
    [stuckAfter],
  );
  return rows[0] ?? { pending: 0, stuck: 0 };
}
