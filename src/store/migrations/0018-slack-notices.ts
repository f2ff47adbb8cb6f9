import type { Migration } from './migration.js';

/**
 * Link-worker notices are posted to Slack once each: the outbox row keyed `notice:<audit id>`
 * is the marker, unique so two processes' sweeps cannot both queue one.
 */
export const slackNotices0018: Migration = {
  id: '0018-slack-notices',
  sql: `
CREATE UNIQUE INDEX slack_outbox_one_notice ON slack_outbox (thread_key) WHERE thread_key LIKE 'notice:%';
`,
};
