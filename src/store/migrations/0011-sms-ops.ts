import type { Migration } from './migration.js';

/**
 * SMS operations (checklist 22 and 42):
 * - `sms_inbound_sweeps`: per number (or Messaging Service) listed at Twilio, the newest
 *   DateSent of an inbound message the reconciliation job has seen: the next run lists from
 *   there (less an overlap), so a webhook outage loses nothing and nothing is listed twice
 *   for long;
 * - an index for the expired-sends metric (30036), so /metrics never scans the outbox.
 */
export const smsOps0011: Migration = {
  id: '0011-sms-ops',
  sql: `
CREATE TABLE sms_inbound_sweeps (
  sweep_key text PRIMARY KEY,
  last_date_sent timestamptz NOT NULL,
  last_sid text,
  swept_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_expired_idx ON messages (kind)
  WHERE direction = 'out' AND error_code = '30036';
`,
};
