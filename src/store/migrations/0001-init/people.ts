// Part of migration 0001-init. Frozen once released: change the schema in a new migration.
export const people = `
CREATE TABLE link_workers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slack_user_id text NOT NULL UNIQUE,
  name text NOT NULL,
  phone text CHECK (phone ~ '^[+][1-9][0-9]{6,14}$'),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE participants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  -- Short reference shown to link workers and leads instead of the phone number.
  ref text NOT NULL UNIQUE CHECK (ref ~ '^P-[0-9A-Z]{4,8}$'),
  phone text UNIQUE CHECK (phone ~ '^[+][1-9][0-9]{6,14}$'),
  first_name text CHECK (char_length(first_name) BETWEEN 1 AND 100),
  preferred_lang text NOT NULL DEFAULT 'en' CHECK (preferred_lang ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$'),
  tz text NOT NULL DEFAULT 'Europe/London',
  quiet_start time NOT NULL DEFAULT '20:00',
  quiet_end time NOT NULL DEFAULT '09:00',
  consent text NOT NULL DEFAULT 'none' CHECK (consent IN ('none', 'given', 'withdrawn')),
  consent_at timestamptz,
  opted_out boolean NOT NULL DEFAULT false,
  -- When the current opt-out began; the full history is in consent_events.
  opted_out_at timestamptz,
  -- TCF profile, all optional (never required to get help).
  age_band text CHECK (age_band IN
    ('under_16', '16_24', '25_49', '50_59', '60_69', '70_79', '80_89', '90_plus')),
  gender text CHECK (gender IN ('male', 'female', 'other', 'prefer_not_to_say')),
  ethnicity text CHECK (ethnicity IN
    ('white', 'black', 'mixed', 'asian', 'other', 'prefer_not_to_say')),
  ltc text CHECK (ltc IN ('yes', 'no', 'prefer_not_to_say')),
  mh_need text CHECK (mh_need IN ('yes', 'no', 'prefer_not_to_say')),
  -- Outward code only (e.g. 'M16'), enough for deprivation reporting.
  postcode_part text CHECK (postcode_part ~ '^[A-Z]{1,2}[0-9][0-9A-Z]?$'),
  referral_route text CHECK (referral_route IN ('gp_primary_care', 'link_worker', 'self',
    'family_friend', 'voluntary_group', 'social_care', 'housing', 'school', 'police', 'other')),
  primary_reason text CHECK (primary_reason IN ('loneliness_isolation', 'anxiety_depression',
    'low_confidence', 'mental_health', 'physical_health', 'carer', 'bereavement', 'debt_money',
    'housing', 'substance_misuse', 'domestic_abuse', 'unemployment', 'other')),
  -- Open list, e.g. low_literacy, bsl, large_print, interpreter.
  communication_needs text[] NOT NULL DEFAULT '{}',
  digital_access text CHECK (digital_access IN ('smartphone', 'basic_mobile', 'shared_phone', 'none')),
  best_time text CHECK (best_time IN ('morning', 'afternoon', 'evening', 'any')),
  assigned_link_worker text REFERENCES link_workers (slack_user_id) ON UPDATE CASCADE,
  complexity_tier smallint CHECK (complexity_tier BETWEEN 1 AND 5),
  number_status text NOT NULL DEFAULT 'ok'
    CHECK (number_status IN ('ok', 'invalid', 'landline', 'unreachable')),
  -- Custom fields set by flows.
  fields jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(fields) = 'object'),
  tags text[] NOT NULL DEFAULT '{}',
  erased_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK (consent = 'none' OR consent_at IS NOT NULL),
  CHECK (NOT opted_out OR opted_out_at IS NOT NULL),
  CONSTRAINT participants_erased_has_no_pii CHECK (erased_at IS NULL
    OR (phone IS NULL AND first_name IS NULL AND postcode_part IS NULL))
);
CREATE INDEX participants_link_worker_idx ON participants (assigned_link_worker)
  WHERE assigned_link_worker IS NOT NULL;

-- Numbers that must never be messaged again although their participant row was erased.
CREATE TABLE suppressions (
  phone text PRIMARY KEY CHECK (phone ~ '^[+][1-9][0-9]{6,14}$'),
  reason text NOT NULL CHECK (reason ~ '^[a-z][a-z0-9_]*$'),
  created_at timestamptz NOT NULL DEFAULT now()
);

-- No free-text notes: the story lives with the link worker, not in this table.
CREATE TABLE referrals (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  participant_id uuid NOT NULL REFERENCES participants (id),
  route text NOT NULL CHECK (route IN ('gp_primary_care', 'link_worker', 'self',
    'family_friend', 'voluntary_group', 'social_care', 'housing', 'school', 'police', 'other')),
  reason text CHECK (reason IN ('loneliness_isolation', 'anxiety_depression',
    'low_confidence', 'mental_health', 'physical_health', 'carer', 'bereavement', 'debt_money',
    'housing', 'substance_misuse', 'domestic_abuse', 'unemployment', 'other')),
  referrer_org text,
  status text NOT NULL DEFAULT 'new'
    CHECK (status IN ('new', 'assigned', 'contacted', 'active', 'closed')),
  link_worker text REFERENCES link_workers (slack_user_id) ON UPDATE CASCADE,
  close_reason text CHECK (close_reason ~ '^[a-z][a-z0-9_]*$'),
  referred_at timestamptz NOT NULL DEFAULT now(),
  assigned_at timestamptz,
  contacted_at timestamptz,
  closed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX referrals_participant_idx ON referrals (participant_id);
CREATE INDEX referrals_open_idx ON referrals (status, referred_at) WHERE status <> 'closed';
CREATE INDEX referrals_route_idx ON referrals (route, referred_at);
`;
