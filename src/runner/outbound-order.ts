import type { Db } from '../store/db.js';

/**
 * Whether an earlier outbound message to the same participant is still unsent (queued or
 * sending): one participant's messages leave in the order they were written (SMS keeps no
 * order). The participant is given and this message's seq is an init-plan subquery, so the
 * plan is always the participant's live outbox in seq order (index
 * messages_outbox_participant_idx), whatever the table statistics say. Written as a
 * self-join, a planner with stale statistics (a freshly filled table) could scan the whole
 * outbox once per candidate: 22 million index scans for a 10,000-reminder burst.
 */
export async function hasEarlierUnsent(
  db: Db,
  id: string,
  participantId: string | null,
): Promise<boolean> {
  if (participantId === null) return false;
  const { rowCount } = await db.query(
    `SELECT 1 FROM messages m WHERE m.participant_id = $2 AND m.direction = 'out'
       AND m.status IN ('queued', 'sending') AND m.seq < (SELECT seq FROM messages WHERE id = $1)
     LIMIT 1`,
    [id, participantId],
  );
  return rowCount > 0;
}
