import type { Migration } from './migration.js';

/**
 * Urgent hand-offs and their second channel (checklists 83, 84):
 * - `handoffs.urgent_at`: when the hand-off was last raised to urgent (a crisis). The duty
 *   phone is texted when no Slack post about it has gone out since then within
 *   DUTY_ALERT_MINUTES. Urgent hand-offs still open are stamped with their opening time.
 * - the out-of-hours alert to SLACK_FALLBACK_CONTACT about an urgent hand-off is queued once
 *   (outbox row keyed `urgent-alert:<hand-off id>`), however many processes announce it.
 * The duty text itself is one `messages` row per hand-off, unique by its dedupe key.
 */
export const crisisDuty0021: Migration = {
  id: '0021-crisis-duty',
  sql: `
ALTER TABLE handoffs ADD COLUMN urgent_at timestamptz;
UPDATE handoffs SET urgent_at = opened_at WHERE urgency = 'urgent' AND status IN ('open', 'claimed');
CREATE UNIQUE INDEX slack_outbox_one_urgent_alert ON slack_outbox (thread_key)
  WHERE thread_key LIKE 'urgent-alert:%';
`,
};
