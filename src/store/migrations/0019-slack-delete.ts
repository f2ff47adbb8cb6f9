import type { Migration } from './migration.js';

/**
 * Erasure (checklist 88) deletes our own Slack posts about a participant through the Slack
 * outbox: an outbox row with op `delete` names the row whose post it removes (chat.delete).
 * `slack_channel` is the channel id a post landed in (a DM's id for a post to a user, an id
 * where a name was given): what chat.delete needs. Rows sent before this have none; their
 * hand-off's channel or their own channel is used.
 */
export const slackDelete0019: Migration = {
  id: '0019-slack-delete',
  sql: `
ALTER TABLE slack_outbox DROP CONSTRAINT slack_outbox_op_check;
ALTER TABLE slack_outbox ADD CONSTRAINT slack_outbox_op_check
  CHECK (op IN ('post_parent', 'post_reply', 'update_parent', 'post', 'delete'));
ALTER TABLE slack_outbox ADD COLUMN slack_channel text;
`,
};
