// Part of migration 0001-init. Frozen once released: change the schema in a new migration.
export const conversations = `
-- The engine's session JSON for one participant's conversation. version is the
-- compare-and-set token: a save names the version it read and fails if it moved.
CREATE TABLE conversation_sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participant_id uuid NOT NULL REFERENCES participants (id),
  flow_id text NOT NULL,
  status text NOT NULL DEFAULT 'waiting' CHECK (status IN ('waiting', 'handed_off', 'ended')),
  state jsonb NOT NULL DEFAULT '{}',
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  started_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'ended') = (ended_at IS NOT NULL))
);
CREATE UNIQUE INDEX conversation_sessions_one_active ON conversation_sessions (participant_id)
  WHERE status <> 'ended';

-- Every message in and out. Outbound rows are written before the provider call; the
-- outbox is direction 'out' with status 'queued'. id is ours (it goes in the
-- StatusCallback URL); provider_sid is Twilio's MessageSid or a Slack event/message id.
CREATE TABLE messages (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  direction text NOT NULL CHECK (direction IN ('in', 'out')),
  channel text NOT NULL CHECK (channel IN ('sms', 'slack')),
  participant_id uuid REFERENCES participants (id),
  conversation_session_id uuid REFERENCES conversation_sessions (id),
  -- The other party: an E.164 number or a Slack channel/user id. Erasable.
  address text,
  provider_sid text CONSTRAINT messages_provider_sid_key UNIQUE,
  -- Makes an outbound insert idempotent (e.g. 'si-<item>-v<version>' for a reminder).
  dedupe_key text CONSTRAINT messages_dedupe_key_key UNIQUE,
  status text NOT NULL CHECK (status IN ('received', 'queued', 'sending', 'sent', 'delivered',
    'undelivered', 'failed', 'skipped')),
  error_code text,
  body text,
  encoding text CHECK (encoding IN ('gsm7', 'ucs2')),
  segments smallint CHECK (segments >= 0),
  num_media smallint NOT NULL DEFAULT 0 CHECK (num_media >= 0),
  template_key text,
  kind text NOT NULL DEFAULT 'conversation' CHECK (kind ~ '^[a-z][a-z0-9_]*$'),
  -- Higher goes first: 0 normal; safety messages use the highest.
  priority smallint NOT NULL DEFAULT 0,
  skip_reason text CHECK (skip_reason ~ '^[a-z][a-z0-9_]*$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  status_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((direction = 'in') = (status = 'received')),
  CHECK ((status = 'skipped') = (skip_reason IS NOT NULL))
);
CREATE INDEX messages_participant_idx ON messages (participant_id, created_at);
CREATE INDEX messages_outbox_idx ON messages (priority DESC, created_at)
  WHERE direction = 'out' AND status = 'queued';

-- Durable timers: the source of truth the BullMQ reconciler rebuilds jobs from.
-- item_key is the natural key (kind + what it is about); every reschedule bumps version,
-- and with it job_id, so a job built for an older version is a stale no-op.
CREATE TABLE scheduled_items (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  item_key text NOT NULL CONSTRAINT scheduled_items_item_key_key UNIQUE,
  kind text NOT NULL CHECK (kind IN ('reminder_day_before', 'reminder_same_day', 'lead_summary',
    'attendance_nudge', 'flow_timeout', 'flow_expiry', 'followup', 'checkin',
    'handoff_escalation', 'send_retry')),
  participant_id uuid REFERENCES participants (id),
  booking_id uuid REFERENCES bookings (id),
  session_id uuid REFERENCES sessions (id),
  conversation_session_id uuid REFERENCES conversation_sessions (id),
  due_at timestamptz NOT NULL,
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  state text NOT NULL DEFAULT 'pending'
    CHECK (state IN ('pending', 'enqueued', 'fired', 'skipped', 'cancelled')),
  skip_reason text CHECK (skip_reason ~ '^[a-z][a-z0-9_]*$'),
  -- Ids and codes only, never PII (it is copied into Redis job data).
  payload jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
  job_id text GENERATED ALWAYS AS ('si-' || id::text || '-v' || version::text) STORED
    CONSTRAINT scheduled_items_job_id_key UNIQUE,
  fired_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scheduled_items_due_idx ON scheduled_items (due_at)
  WHERE state IN ('pending', 'enqueued');
CREATE INDEX scheduled_items_participant_idx ON scheduled_items (participant_id)
  WHERE state IN ('pending', 'enqueued');
CREATE INDEX scheduled_items_session_idx ON scheduled_items (session_id)
  WHERE state IN ('pending', 'enqueued');
CREATE INDEX scheduled_items_booking_idx ON scheduled_items (booking_id)
  WHERE state IN ('pending', 'enqueued');
`;
