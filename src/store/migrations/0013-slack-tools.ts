import type { Migration } from './migration.js';

/**
 * Link worker tools: slash commands (keyed by their trigger_id) and modal submissions
 * (keyed by theirs) are deduplicated in the Slack inbox too.
 */
export const slackTools0013: Migration = {
  id: '0013-slack-tools',
  sql: `
ALTER TABLE slack_inbox DROP CONSTRAINT slack_inbox_kind_check;
ALTER TABLE slack_inbox ADD CONSTRAINT slack_inbox_kind_check
  CHECK (kind IN ('event', 'action', 'command', 'view'));
`,
};
