import type { Db } from '../db-port.js';
import { lockParticipant } from '../participant-lock.js';
import { appendAudit } from './audit.js';
import { pseudonymiseLeadCopies } from './erasure-leads.js';
import { eraseSlack } from './erasure-slack.js';
import { queueTwilioDeletions, queueTwilioDeletionsOf } from './erasure-twilio.js';
import { cancelPendingForParticipant } from './scheduled-items.js';

export interface ErasureResult {
  erased: boolean;
  /** Hand-off threads to delete in Slack (chat.delete), outside this transaction. */
  slackThreads: { channel: string; threadTs: string }[];
  /** BullMQ jobs to remove. */
  cancelledJobIds: string[];
  /** Slack posts queued for deletion (chat.delete through the Slack outbox). */
  slackDeletes: number;
  /** Messages recorded for deletion from Twilio's log (twilio_deletions). */
  twilioDeletes: number;
}

const NOTHING: ErasureResult = {
  erased: false,
  slackThreads: [],
  cancelledJobIds: [],
  slackDeletes: 0,
  twilioDeletes: 0,
};

/**
 * Turns a participant into a pseudonymous tombstone (see the erasure design comment in
 * migration 0001): identifiers and free text go, reporting categories and foreign keys
 * stay. One transaction. An opted-out phone is kept in suppressions. Our Slack posts about
 * them are queued for deletion and their stored text emptied (erasure-slack.ts); their
 * messages are recorded for deletion from Twilio's log (erasure-twilio.ts); leads'
 * copies name them by reference only (erasure-leads.ts). Idempotent.
 */
export function eraseParticipant(db: Db, id: string, actor: string): Promise<ErasureResult> {
  return db.transaction(async (tx) => {
    // After any turn of theirs in flight (it could write their words after ours), before the next.
    await lockParticipant(tx, id);
    const found = await tx.query<{ phone: string | null; optedOut: boolean; ref: string }>(
      `SELECT phone, opted_out AS "optedOut", ref FROM participants
       WHERE id = $1 AND erased_at IS NULL FOR UPDATE`,
      [id],
    );
    const person = found.rows[0];
    if (!person) return NOTHING;
    // Before the raw forms go with the number: their SIDs are needed at Twilio.
    let twilioDeletes = await queueTwilioDeletions(tx, id, person.phone);
    if (person.phone !== null) await forgetPhone(tx, person.phone, person.optedOut);
    const leadCopies = await pseudonymiseLeadCopies(tx, id, person.ref);
    twilioDeletes += await queueTwilioDeletionsOf(tx, leadCopies);
    await scrubContent(tx, id);
    const slackDeletes = await eraseSlack(tx, id);
    const cancelled = await cancelPendingForParticipant(tx, id, 'erased');
    const threads = await tx.query<{ channel: string; threadTs: string }>(
      `SELECT DISTINCT slack_channel AS channel, slack_thread_ts AS "threadTs" FROM handoffs
       WHERE participant_id = $1 AND slack_thread_ts IS NOT NULL`,
      [id],
    );
    await tx.query(
      `UPDATE participants SET phone = NULL, first_name = NULL, postcode_part = NULL,
         fields = '{}', tags = '{}', communication_needs = '{}', best_time = NULL,
         erased_at = now()
       WHERE id = $1`,
      [id],
    );
    await appendAudit(tx, { participantId: id, kind: 'participant.erased', actor });
    return {
      erased: true,
      slackThreads: threads.rows,
      cancelledJobIds: cancelled.map((item) => item.jobId),
      slackDeletes,
      twilioDeletes,
    };
  });
}

async function forgetPhone(tx: Db, phone: string, optedOut: boolean): Promise<void> {
  if (optedOut) {
    await tx.query(
      `INSERT INTO suppressions (phone, reason) VALUES ($1, 'opted_out')
       ON CONFLICT (phone) DO NOTHING`,
      [phone],
    );
  }
  await tx.query(`DELETE FROM inbound_raw WHERE form ->> 'From' = $1`, [phone]);
}

async function scrubContent(tx: Db, id: string): Promise<void> {
  // A text not sent yet never will be (a send already claimed meets the send guard's check).
  await tx.query(
    `UPDATE messages SET status = 'skipped', skip_reason = 'erased', status_at = now()
     WHERE participant_id = $1 AND direction = 'out' AND status = 'queued'`,
    [id],
  );
  await tx.query('UPDATE messages SET body = NULL, address = NULL WHERE participant_id = $1', [id]);
  await tx.query('UPDATE answers SET value = NULL WHERE participant_id = $1', [id]);
  // A drop-in's name is as personal as the participant's own first name.
  await tx.query('UPDATE session_drop_ins SET first_name = NULL WHERE participant_id = $1', [id]);
  await tx.query(
    `UPDATE conversation_sessions SET state = '{}', status = 'ended',
       ended_at = coalesce(ended_at, now()), version = version + 1
     WHERE participant_id = $1`,
    [id],
  );
}
