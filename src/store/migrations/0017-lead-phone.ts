import type { Migration } from './migration.js';

/**
 * Every inbound text asks whether its number is an activity lead's (the webhook's one
 * statement, and the lead SMS paths): an index, so that check does not read every activity.
 */
export const leadPhone0017: Migration = {
  id: '0017-lead-phone',
  sql: `
CREATE INDEX activities_lead_phone_idx ON activities (lead_phone) WHERE lead_phone IS NOT NULL;
`,
};
