import type { Migration } from './migration.js';

/**
 * Every inbound text asks whether its number is an activity lead's (the webhook's one
 * statement, and the lead SMS paths): an index, so that check does not read every activity.
 *
 * A lead's text is now handled by its own job, which marks it processed; the reconciler
 * re-queues any inbound text left unprocessed. Texts without a participant stored before
 * this (handled in the webhook, never marked) are marked now, so none is handled twice.
 */
export const leadPhone0017: Migration = {
  id: '0017-lead-phone',
  sql: `
CREATE INDEX activities_lead_phone_idx ON activities (lead_phone) WHERE lead_phone IS NOT NULL;
UPDATE messages SET processed_at = created_at
  WHERE direction = 'in' AND participant_id IS NULL AND processed_at IS NULL;
`,
};
