/**
 * Wire values of the enumerated columns. The CHECK constraints in the migrations hold the
 * same lists (migration text is frozen, so it repeats them rather than importing these);
 * the store tests insert every participant profile value and every scheduled item kind.
 */
export const CONSENT_STATES = ['none', 'given', 'withdrawn'] as const;
export const NUMBER_STATUSES = ['ok', 'invalid', 'landline', 'unreachable'] as const;
export const AGE_BANDS = [
  'under_16',
  '16_24',
  '25_49',
  '50_59',
  '60_69',
  '70_79',
  '80_89',
  '90_plus',
] as const;
export const GENDERS = ['male', 'female', 'other', 'prefer_not_to_say'] as const;
export const ETHNICITIES = [
  'white',
  'black',
  'mixed',
  'asian',
  'other',
  'prefer_not_to_say',
] as const;
export const YES_NO = ['yes', 'no', 'prefer_not_to_say'] as const;
export const REFERRAL_ROUTES = [
  'gp_primary_care',
  'link_worker',
  'self',
  'family_friend',
  'voluntary_group',
  'social_care',
  'housing',
  'school',
  'police',
  'other',
] as const;
export const PRIMARY_REASONS = [
  'loneliness_isolation',
  'anxiety_depression',
  'low_confidence',
  'mental_health',
  'physical_health',
  'carer',
  'bereavement',
  'debt_money',
  'housing',
  'substance_misuse',
  'domestic_abuse',
  'unemployment',
  'other',
] as const;
export const DIGITAL_ACCESS = ['smartphone', 'basic_mobile', 'shared_phone', 'none'] as const;
export const BEST_TIMES = ['morning', 'afternoon', 'evening', 'any'] as const;
export const ACTIVITY_TYPES = [
  'arts_culture',
  'natural_environment',
  'physical_activity',
  'financial_wellbeing',
  'health_care',
  'faith_group',
  'education',
  'peer_support',
] as const;
export const MESSAGE_STATUSES = [
  'received',
  'queued',
  'sending',
  'sent',
  'delivered',
  'undelivered',
  'failed',
  'skipped',
] as const;
export const SCHEDULED_ITEM_KINDS = [
  'reminder_day_before',
  'reminder_same_day',
  'lead_summary',
  'attendance_nudge',
  'flow_timeout',
  'flow_expiry',
  'followup',
  'checkin',
  'handoff_escalation',
  'send_retry',
] as const;
export const SCHEDULED_ITEM_STATES = [
  'pending',
  'enqueued',
  'fired',
  'skipped',
  'cancelled',
] as const;
export const CONVERSATION_STATUSES = ['waiting', 'handed_off', 'ended'] as const;
export const CONSENT_EVENT_KINDS = [
  'consent_given',
  'consent_withdrawn',
  'opted_out',
  'opted_in',
] as const;
export const COLLECTED_VIA = ['sms', 'slack', 'import'] as const;
export const CHANNELS = ['sms', 'slack'] as const;

export type ConsentState = (typeof CONSENT_STATES)[number];
export type NumberStatus = (typeof NUMBER_STATUSES)[number];
export type AgeBand = (typeof AGE_BANDS)[number];
export type Gender = (typeof GENDERS)[number];
export type Ethnicity = (typeof ETHNICITIES)[number];
export type YesNo = (typeof YES_NO)[number];
export type ReferralRoute = (typeof REFERRAL_ROUTES)[number];
export type PrimaryReason = (typeof PRIMARY_REASONS)[number];
export type DigitalAccess = (typeof DIGITAL_ACCESS)[number];
export type BestTime = (typeof BEST_TIMES)[number];
export type ActivityType = (typeof ACTIVITY_TYPES)[number];
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export type ScheduledItemKind = (typeof SCHEDULED_ITEM_KINDS)[number];
export type ScheduledItemState = (typeof SCHEDULED_ITEM_STATES)[number];
export type ConversationStatus = (typeof CONVERSATION_STATUSES)[number];
export type ConsentEventKind = (typeof CONSENT_EVENT_KINDS)[number];
export type CollectedVia = (typeof COLLECTED_VIA)[number];
export type Channel = (typeof CHANNELS)[number];
