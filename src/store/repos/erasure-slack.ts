import type { Db } from '../db-port.js';

/**
 * Our Slack posts about one participant ($1): their hand-offs' threads (parent, relayed
 * texts, updates, the out-of-hours alert), their referral cards and the notices naming them.
 */
const MINE = `(o.handoff_id IN (SELECT id FROM handoffs WHERE participant_id = $1)
  OR o.thread_key IN (SELECT 'referral:' || id::text FROM referrals WHERE participant_id = $1)
  OR o.thread_key IN (SELECT 'notice:' || id::text FROM audit_events WHERE participant_id = $1))
  AND o.op <> 'delete'`;

/**
 * In the erasure's transaction: posts not sent yet never go; each post that went out (or
 * may be going out now) gets a `delete` row the Slack outbox carries out after commit
 * (chat.delete; it waits for a post still being sent); the stored copies of the text are
 * emptied; link workers' thread replies not yet processed are dropped. Closes an open
 * hand-off so nobody is re-pinged about it. Returns how many deletes were queued.
 */
export async function eraseSlack(tx: Db, id: string): Promise<number> {
  await tx.query(
    `UPDATE slack_outbox o SET status = 'failed', last_error = 'erased', lease_until = NULL
     WHERE ${MINE} AND o.status = 'queued'`,
    [id],
  );
  const deletes = await tx.query(
    `INSERT INTO slack_outbox (thread_key, op, channel, payload)
     SELECT 'erase:' || o.id::text, 'delete',
       CASE WHEN o.op = 'post' THEN coalesce(o.slack_channel, o.channel)
         ELSE coalesce(o.slack_channel, h.slack_channel, o.channel) END,
       jsonb_build_object('text', '', 'target', o.id::text)
     FROM slack_outbox o LEFT JOIN handoffs h ON h.id = o.handoff_id
     WHERE ${MINE} AND o.op IN ('post_parent', 'post_reply', 'post')
       AND (o.status = 'sending' OR o.slack_ts IS NOT NULL)
     ORDER BY o.seq`,
    [id],
  );
  await tx.query(`UPDATE slack_outbox o SET payload = '{"text": ""}' WHERE ${MINE}`, [id]);
  await tx.query(
    `UPDATE slack_inbox SET body = NULL, processed_at = coalesce(processed_at, now()),
       lease_until = NULL, error = 'erased'
     WHERE body IS NOT NULL AND (body->'event'->>'channel', body->'event'->>'thread_ts') IN
       (SELECT slack_channel, slack_thread_ts FROM handoffs WHERE participant_id = $1)`,
    [id],
  );
  await tx.query(
    `UPDATE handoffs SET status = 'closed', closed_at = coalesce(closed_at, now()),
       version = version + 1
     WHERE participant_id = $1 AND status IN ('open', 'claimed')`,
    [id],
  );
  return deletes.rowCount ?? 0;
}
