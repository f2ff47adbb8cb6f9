import type { Migration } from './migration.js';

/**
 * Indexes for the runner's hot path (found by the scheduler benchmark, `npm run bench:scheduler`):
 * - Ending or moving a conversation's wait cancels its live flow timers by
 *   conversation_session_id: without this index every reminder fired scanned all of
 *   scheduled_items (10,000 sequential scans of 15,000 rows each for 10,000 reminders).
 * - The outbound "is an earlier message to this person still unsent?" check reads a
 *   participant's live outbox in seq order.
 */
export const perf0006: Migration = {
  id: '0006-perf',
  sql: `
CREATE INDEX scheduled_items_conversation_idx ON scheduled_items (conversation_session_id, kind)
  WHERE state IN ('pending', 'enqueued');
CREATE INDEX messages_outbox_participant_idx ON messages (participant_id, seq)
  WHERE direction = 'out' AND status IN ('queued', 'sending');
`,
};
