import type { Migration } from './migration.js';

/**
 * Activity leads, part two: the language the lead's summary and nudge are written in, and
 * drop-ins by name. A drop-in row is someone who came without a booking: a first name if
 * they gave one, and a participant (and their attended booking) only if they left a number
 * because they want to be contacted. `sessions.drop_ins` stays the count, named or not.
 */
export const leadsDropIns0012: Migration = {
  id: '0012-leads-drop-ins',
  sql: `
ALTER TABLE activities ADD COLUMN lead_lang text NOT NULL DEFAULT 'en'
  CHECK (lead_lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$');

CREATE TABLE session_drop_ins (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  session_id uuid NOT NULL REFERENCES sessions (id),
  first_name text CHECK (char_length(first_name) BETWEEN 1 AND 100),
  participant_id uuid REFERENCES participants (id),
  booking_id uuid REFERENCES bookings (id),
  -- 'lead:<slack id>' or 'link_worker:<slack id>'
  added_by text NOT NULL,
  -- The Slack modal it came from: the same form submitted twice records one person.
  request_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_drop_ins_session_idx ON session_drop_ins (session_id, created_at);
CREATE UNIQUE INDEX session_drop_ins_participant_key ON session_drop_ins (session_id, participant_id)
  WHERE participant_id IS NOT NULL;
`,
};
