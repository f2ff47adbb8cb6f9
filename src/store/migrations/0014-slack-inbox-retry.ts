import type { Migration } from './migration.js';

/**
 * A Slack request whose processing failed is tried again soon, with backoff, not only by the
 * sweep 30 s later: `retry_at` is when the next try is due (NULL: 30 s after it arrived, as
 * before, for a request whose process died mid-way).
 */
export const slackInboxRetry0014: Migration = {
  id: '0014-slack-inbox-retry',
  sql: `ALTER TABLE slack_inbox ADD COLUMN retry_at timestamptz;`,
};
