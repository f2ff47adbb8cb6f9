// Part of migration 0001-init. Frozen once released: change the schema in a new migration.
export const activities = `
CREATE TABLE activities (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  description text,
  location text,
  what_to_bring text,
  greeter text,
  -- Translations of the text above: {"cy": {"name": "...", "description": "..."}}.
  i18n jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(i18n) = 'object'),
  lead_slack_user text,
  -- For leads without Slack: SMS must work for them too.
  lead_phone text CHECK (lead_phone ~ '^[+][1-9][0-9]{6,14}$'),
  capacity integer CHECK (capacity > 0),
  booking_mode text NOT NULL DEFAULT 'booked' CHECK (booking_mode IN ('booked', 'drop_in')),
  access text NOT NULL DEFAULT 'open' CHECK (access IN ('open', 'invitation')),
  status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'ended')),
  same_day_reminder boolean NOT NULL DEFAULT false,
  activity_type text CHECK (activity_type IN ('arts_culture', 'natural_environment',
    'physical_activity', 'financial_wellbeing', 'health_care', 'faith_group', 'education',
    'peer_support')),
  tz text NOT NULL DEFAULT 'Europe/London',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One meeting of an activity. version bumps on every move or cancellation, so reminders
-- and jobs computed for an older version are recognisably stale.
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  activity_id uuid NOT NULL REFERENCES activities (id),
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'moved', 'cancelled')),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  -- Position within a course (1..n); null for drop-ins.
  seq smallint CHECK (seq >= 1),
  -- Overrides the activity's location for this meeting only.
  location text,
  cancel_reason text CHECK (cancel_reason ~ '^[a-z][a-z0-9_]*$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (ends_at > starts_at)
);
CREATE INDEX sessions_activity_idx ON sessions (activity_id, starts_at);
CREATE INDEX sessions_upcoming_idx ON sessions (starts_at) WHERE status <> 'cancelled';

CREATE TABLE bookings (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participant_id uuid NOT NULL REFERENCES participants (id),
  session_id uuid NOT NULL REFERENCES sessions (id),
  status text NOT NULL DEFAULT 'booked' CHECK (status IN
    ('booked', 'confirmed', 'cancelled', 'attended', 'absent', 'waitlisted')),
  version integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  -- Who marked attendance or cancelled: 'participant', 'lead:<slack id>', 'system'...
  changed_by text,
  booked_at timestamptz NOT NULL DEFAULT now(),
  confirmed_at timestamptz,
  cancelled_at timestamptz,
  attendance_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT bookings_participant_session_key UNIQUE (participant_id, session_id)
);
CREATE INDEX bookings_session_idx ON bookings (session_id, status);
`;
