import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { memoize } from '../../engine/memo.js';

/**
 * What kind of line a number is, from numbering-plan metadata alone (no network). `special`
 * is freephone, premium, shared-cost, UAN, personal (070) and pager numbers: none can be
 * trusted to receive SMS. `unknown` is a valid number whose plan does not say (the US mixes
 * mobiles and landlines): a carrier Lookup must decide before health content is sent.
 */
export type NumberKind = 'mobile' | 'landline' | 'voip' | 'special' | 'unknown' | 'invalid';

const KIND_BY_TYPE: Readonly<Record<string, NumberKind>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'landline',
  VOIP: 'voip',
  FIXED_LINE_OR_MOBILE: 'unknown',
  TOLL_FREE: 'special',
  PREMIUM_RATE: 'special',
  SHARED_COST: 'special',
  UAN: 'special',
  PERSONAL_NUMBER: 'special',
  PAGER: 'special',
  VOICEMAIL: 'special',
};

/**
 * Two of Ofcom's ranges reserved for drama and testing are called invalid by the metadata
 * (the others already classify correctly). Linkline's tests and demo use them, so they are
 * classified as what they stand for: 07700 900xxx mobiles and 01632 960xxx landlines.
 */
const OFCOM_DRAMA: readonly [RegExp, NumberKind][] = [
  [/^\+447700900\d{3}$/, 'mobile'],
  [/^\+441632960\d{3}$/, 'landline'],
];

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * Classifies an E.164 number (UK-aware) so health content never goes to a landline.
 * Memoised by number (at most 50,000): the metadata lookup was the send path's largest library
 * cost (2.6% of a worker's CPU on the conversation benchmark) and a participant is texted
 * many times.
 */
export const classifyNumber: (e164: string) => NumberKind = memoize(classify, 50_000);

function classify(e164: string): NumberKind {
  if (!E164.test(e164)) return 'invalid';
  const drama = OFCOM_DRAMA.find(([pattern]) => pattern.test(e164));
  if (drama) return drama[1];
  // With the full ("max") metadata a number is valid exactly when it has a type
  // (libphonenumber's isValid is `getNumberType(...) !== undefined`): one lookup, not two.
  const type = parsePhoneNumberFromString(e164)?.getType();
  if (type === undefined) return 'invalid';
  return KIND_BY_TYPE[type] ?? 'unknown';
}

/** Only a known mobile may receive Linkline's SMS without a carrier Lookup first. */
export function isTextable(kind: NumberKind): boolean {
  return kind === 'mobile';
}
