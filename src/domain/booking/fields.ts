/** Field schemas shared by the admin API and the import: one definition of each wire format. */
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';
import { ISO_DATE_PATTERN, wallTimeSchema } from '../schedule/local-time.js';

export const isoDate = z
  .string()
  .regex(ISO_DATE_PATTERN, 'expected a date YYYY-MM-DD')
  .refine((s) => DateTime.fromISO(s, { zone: 'utc' }).isValid, 'not a real calendar date');

export const wallTime = wallTimeSchema();

export const zoneName = z
  .string()
  .refine((s) => IANAZone.isValidZone(s), 'expected an IANA time zone such as Europe/London');

/** An instant: ISO 8601 with Z or an offset (a bare local time would depend on the host). */
export const instant = z.iso
  .datetime({ offset: true, error: 'expected an ISO date-time with Z or an offset' })
  .transform((s) => new Date(s));

export const activityKey = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'expected lowercase letters, digits, - and _ (max 63)');

export const slackUserId = z.string().regex(/^[UW][A-Z0-9]{2,20}$/, 'expected a Slack user id');

export const participantRef = z.string().regex(/^P-[0-9A-Z]{4,8}$/, 'expected a ref like P-7K3Q');

export type PhoneKind = 'mobile' | 'landline' | 'other';

// Ofcom's drama ranges, which the metadata calls invalid; tests and the demo use them.
const OFCOM_DRAMA: readonly [RegExp, PhoneKind][] = [
  [/^\+447700900\d{3}$/, 'mobile'],
  [/^\+441632960\d{3}$/, 'landline'],
];

const KIND_BY_TYPE: Readonly<Record<string, PhoneKind>> = {
  MOBILE: 'mobile',
  FIXED_LINE: 'landline',
};

/** Parses a phone number (GB unless it has a country code) into E.164, or undefined. */
export function toE164(raw: string): { e164: string; kind: PhoneKind } | undefined {
  const parsed = parsePhoneNumberFromString(raw, 'GB');
  if (!parsed) return undefined;
  const drama = OFCOM_DRAMA.find(([pattern]) => pattern.test(parsed.number));
  if (drama) return { e164: parsed.number, kind: drama[1] };
  if (!parsed.isValid()) return undefined;
  return { e164: parsed.number, kind: KIND_BY_TYPE[parsed.getType() ?? ''] ?? 'other' };
}

/** A phone number in any common UK or international form, to `{ e164, kind }` (YAML may give a number). */
export const phone = z.union([z.string(), z.number().transform(String)]).transform((raw, ctx) => {
  const parsed = toE164(raw);
  if (parsed) return parsed;
  ctx.addIssue({ code: 'custom', message: 'not a valid phone number (UK numbers may omit +44)' });
  return z.NEVER;
});

/** Renders zod issues as `{ path: 'a.b.0', message }`, the wire shape of field errors. */
export interface FieldError {
  path: string;
  message: string;
}

export function fieldErrors(
  error: z.ZodError,
  base: readonly (string | number)[] = [],
): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = [...base, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: [...path, k].join('.'), message: 'unknown field' }));
    }
    return [{ path: path.join('.'), message: issue.message }];
  });
}
