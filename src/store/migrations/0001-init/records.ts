// Part of migration 0001-init. Frozen once released: change the schema in a new migration.
export const records = `
CREATE TABLE answers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participant_id uuid NOT NULL REFERENCES participants (id),
  conversation_session_id uuid REFERENCES conversation_sessions (id),
  -- A question key, e.g. 'ons4_life_satisfaction'.
  question text NOT NULL,
  -- What the person said or chose. Erasable; score stays for aggregate wellbeing change.
  value text,
  score numeric(8, 2),
  collected_at timestamptz NOT NULL DEFAULT now(),
  collected_via text NOT NULL CHECK (collected_via IN ('sms', 'slack', 'import')),
  flow_id text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answers_participant_idx ON answers (participant_id, question, collected_at);

CREATE TABLE handoffs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participant_id uuid NOT NULL REFERENCES participants (id),
  conversation_session_id uuid REFERENCES conversation_sessions (id),
  -- A code ('asked_for_person', 'crisis', 'flow_failure'...), never free text.
  reason text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]*$'),
  urgency text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent')),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'claimed', 'closed', 'returned')),
  claimed_by text,
  slack_channel text,
  slack_thread_ts text,
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  opened_at timestamptz NOT NULL DEFAULT now(),
  claimed_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (status <> 'claimed' OR claimed_by IS NOT NULL),
  CHECK ((slack_channel IS NULL) = (slack_thread_ts IS NULL))
);
CREATE UNIQUE INDEX handoffs_one_open ON handoffs (participant_id)
  WHERE status IN ('open', 'claimed');
-- A link worker's reply is routed by its thread; later hand-offs may reuse the thread.
CREATE INDEX handoffs_thread_idx ON handoffs (slack_channel, slack_thread_ts)
  WHERE slack_thread_ts IS NOT NULL;
CREATE INDEX handoffs_pending_idx ON handoffs (status, opened_at)
  WHERE status IN ('open', 'claimed');

-- Append-only logs. detail carries ids and codes only, never PII (see erasure design).
CREATE TABLE consent_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  participant_id uuid REFERENCES participants (id),
  kind text NOT NULL
    CHECK (kind IN ('consent_given', 'consent_withdrawn', 'opted_out', 'opted_in')),
  detail jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
  -- 'participant', 'system', 'slack:<user id>', 'admin:<name>', 'carrier'...
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_events_participant_idx ON consent_events (participant_id, at);

CREATE TABLE audit_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  participant_id uuid REFERENCES participants (id),
  kind text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.]*$'),
  detail jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_participant_idx ON audit_events (participant_id, at);
CREATE INDEX audit_events_kind_idx ON audit_events (kind, at);

CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
  FOR EACH ROW EXECUTE FUNCTION ll_refuse_change();
CREATE TRIGGER consent_events_no_truncate BEFORE TRUNCATE ON consent_events
  FOR EACH STATEMENT EXECUTE FUNCTION ll_refuse_change();
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
  FOR EACH ROW EXECUTE FUNCTION ll_refuse_change();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
  FOR EACH STATEMENT EXECUTE FUNCTION ll_refuse_change();

-- What the Twilio fallback endpoint received, kept raw until ingested.
-- Holds a phone number and a body: delete rows once processed (retention) or on erasure.
CREATE TABLE inbound_raw (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  provider_sid text,
  form jsonb NOT NULL CHECK (jsonb_typeof(form) = 'object'),
  url text,
  signature text,
  received_at timestamptz NOT NULL DEFAULT now(),
  processed boolean NOT NULL DEFAULT false,
  processed_at timestamptz,
  error text
);
CREATE INDEX inbound_raw_unprocessed_idx ON inbound_raw (received_at) WHERE NOT processed;
CREATE INDEX inbound_raw_sid_idx ON inbound_raw (provider_sid);
`;
