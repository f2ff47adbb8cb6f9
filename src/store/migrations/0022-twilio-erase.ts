import type { Migration } from './migration.js';

/**
 * Erasure (checklist 88) also deletes the participant's messages from Twilio's message log
 * (DELETE /Messages/{Sid}.json). The erasure's transaction writes one row per message to
 * delete; a maintenance job deletes them at Twilio after commit and removes each row once
 * Twilio has it gone (204, or 404: already gone). A row names our message (`message_id`:
 * its SID is read from `messages` when the job runs, so a text still being sent at erasure
 * is deleted once its SID is known) or, for a raw inbound form never stored as a message,
 * the SID alone. Only ids: no number, no text. `next_at` is when it is next tried (backoff
 * while Twilio refuses a message not yet complete, 20009, or is unreachable).
 */
export const twilioErase0022: Migration = {
  id: '0022-twilio-erase',
  sql: `
CREATE TABLE twilio_deletions (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_id uuid CONSTRAINT twilio_deletions_message_key UNIQUE,
  sid text CONSTRAINT twilio_deletions_sid_key UNIQUE,
  attempts integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_at timestamptz NOT NULL DEFAULT now(),
  last_error text CHECK (last_error ~ '^[A-Za-z0-9_]+$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  CHECK (message_id IS NOT NULL OR sid IS NOT NULL)
);
CREATE INDEX twilio_deletions_due_idx ON twilio_deletions (next_at);
`,
};
