import type { Migration } from './migration.js';

/**
 * Slack: an inbox that dedupes what Slack sends us (event_id, action ids) and only counts a
 * request as seen once it is stored; an ordered, durable outbox of what we post (one
 * thread_key = one ordered stream: a hand-off's parent, its relayed texts, its updates);
 * re-ping bookkeeping on hand-offs.
 */
export const slack0005: Migration = {
  id: '0005-slack',
  sql: `
CREATE TABLE slack_inbox (
  id text PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('event', 'action')),
  -- The payload until it is processed; cleared after (it can hold a link worker's text).
  body jsonb,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed_at timestamptz,
  attempts integer NOT NULL DEFAULT 0,
  -- Being processed until then; a failure clears it so a retry (Slack's or ours) runs again.
  lease_until timestamptz,
  error text
);
CREATE INDEX slack_inbox_unprocessed_idx ON slack_inbox (received_at) WHERE processed_at IS NULL;

CREATE TABLE slack_outbox (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  seq bigint GENERATED ALWAYS AS IDENTITY,
  thread_key text NOT NULL,
  handoff_id uuid REFERENCES handoffs (id),
  op text NOT NULL CHECK (op IN ('post_parent', 'post_reply', 'update_parent', 'post')),
  channel text NOT NULL,
  payload jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sending', 'sent', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  -- The last attempt may have reached Slack (lost response, timeout): look before re-posting.
  uncertain boolean NOT NULL DEFAULT false,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  lease_until timestamptz,
  slack_ts text,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX slack_outbox_pending_idx ON slack_outbox (thread_key, seq)
  WHERE status IN ('queued', 'sending');
CREATE UNIQUE INDEX slack_outbox_one_parent ON slack_outbox (handoff_id) WHERE op = 'post_parent';
-- One notice per referral, whichever process's sweep gets there first.
CREATE UNIQUE INDEX slack_outbox_one_referral ON slack_outbox (thread_key) WHERE thread_key LIKE 'referral:%';

ALTER TABLE handoffs ADD COLUMN last_pinged_at timestamptz;
ALTER TABLE handoffs ADD COLUMN ping_count integer NOT NULL DEFAULT 0;
`,
};
