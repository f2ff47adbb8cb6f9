import type { Migration } from './migration.js';

/**
 * The runner handles each participant's inbound messages strictly in arrival order: seq
 * orders them (created_at can tie), processed_at marks the ones already handled.
 */
export const runner0003: Migration = {
  id: '0003-runner',
  sql: `
ALTER TABLE messages ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE messages ADD COLUMN processed_at timestamptz;
CREATE INDEX messages_unprocessed_idx ON messages (participant_id, seq)
  WHERE direction = 'in' AND processed_at IS NULL;
`,
};
