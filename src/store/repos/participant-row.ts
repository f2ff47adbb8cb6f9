import type {
  AgeBand,
  BestTime,
  ConsentState,
  DigitalAccess,
  Ethnicity,
  Gender,
  NumberStatus,
  PrimaryReason,
  ReferralRoute,
  YesNo,
} from '../enums.js';
import { selectList } from './sql.js';

export interface Participant {
  id: string;
  /** Short reference shown to link workers instead of the phone, e.g. 'P-7K3Q'. */
  ref: string;
  /** E.164; null once erased. */
  phone: string | null;
  firstName: string | null;
  preferredLang: string;
  /** IANA zone. */
  tz: string;
  /** Local 'HH:MM:SS'. */
  quietStart: string;
  quietEnd: string;
  consent: ConsentState;
  consentAt: Date | null;
  optedOut: boolean;
  optedOutAt: Date | null;
  ageBand: AgeBand | null;
  gender: Gender | null;
  ethnicity: Ethnicity | null;
  ltc: YesNo | null;
  mhNeed: YesNo | null;
  postcodePart: string | null;
  referralRoute: ReferralRoute | null;
  primaryReason: PrimaryReason | null;
  communicationNeeds: string[];
  digitalAccess: DigitalAccess | null;
  bestTime: BestTime | null;
  /** Slack user id. */
  assignedLinkWorker: string | null;
  complexityTier: number | null;
  numberStatus: NumberStatus;
  /** Custom fields set by flows. */
  fields: Record<string, unknown>;
  tags: string[];
  erasedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** Columns a caller may set directly; consent, opt-out and erasure have their own paths. */
export const PATCH_COLUMNS = {
  phone: 'phone',
  firstName: 'first_name',
  preferredLang: 'preferred_lang',
  tz: 'tz',
  quietStart: 'quiet_start',
  quietEnd: 'quiet_end',
  ageBand: 'age_band',
  gender: 'gender',
  ethnicity: 'ethnicity',
  ltc: 'ltc',
  mhNeed: 'mh_need',
  postcodePart: 'postcode_part',
  referralRoute: 'referral_route',
  primaryReason: 'primary_reason',
  communicationNeeds: 'communication_needs',
  digitalAccess: 'digital_access',
  bestTime: 'best_time',
  assignedLinkWorker: 'assigned_link_worker',
  complexityTier: 'complexity_tier',
  numberStatus: 'number_status',
  fields: 'fields',
  tags: 'tags',
} as const satisfies Partial<Record<keyof Participant, string>>;

export type PatchKey = keyof typeof PATCH_COLUMNS;
export type ParticipantPatch = Partial<Pick<Participant, PatchKey>>;

const COLUMNS = {
  ...PATCH_COLUMNS,
  id: 'id',
  ref: 'ref',
  consent: 'consent',
  consentAt: 'consent_at',
  optedOut: 'opted_out',
  optedOutAt: 'opted_out_at',
  erasedAt: 'erased_at',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
} as const satisfies Record<keyof Participant, string>;

export const PARTICIPANT_SELECT = selectList(COLUMNS);

/** Parameter placeholder for a patch column: jsonb needs text plus a cast. */
export function placeholder(key: PatchKey, index: number): string {
  return key === 'fields' ? `$${index}::jsonb` : `$${index}`;
}

export function paramValue(key: PatchKey, value: unknown): unknown {
  return key === 'fields' ? JSON.stringify(value ?? {}) : value;
}

/** The defined entries of a patch, in a stable order. */
export function patchEntries(patch: ParticipantPatch): [PatchKey, unknown][] {
  return (Object.keys(PATCH_COLUMNS) as PatchKey[])
    .filter((key) => patch[key] !== undefined)
    .map((key) => [key, patch[key]]);
}
