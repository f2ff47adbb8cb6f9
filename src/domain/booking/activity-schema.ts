import { z } from 'zod';
import { ACTIVITY_TYPES } from '../../store/enums.js';
import { activityKey, phone, slackUserId, zoneName } from './fields.js';
import { seriesSchema } from './series-schema.js';

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/** A lead's number gets SMS: a landline would read it aloud, so it must be a mobile. */
const leadPhone = phone.refine((p) => p.kind !== 'landline', 'the lead phone must be a mobile');

const fields = {
  key: activityKey,
  name: text(200),
  description: text(2000).nullable(),
  location: text(500).nullable(),
  what_to_bring: text(500).nullable(),
  greeter: text(200).nullable(),
  lead_slack_user: slackUserId.nullable(),
  lead_phone: leadPhone.nullable(),
  /** The language of the lead's summary and nudge (a shipped locale; default en). */
  lead_lang: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'expected a language code such as en or pl'),
  capacity: z.number().int('expected a whole number').min(1).max(10_000).nullable(),
  booking_mode: z.enum(['booked', 'drop_in']),
  access: z.enum(['open', 'invitation']),
  status: z.enum(['active', 'paused', 'ended']),
  same_day_reminder: z.boolean(),
  activity_type: z.enum(ACTIVITY_TYPES).nullable(),
  tz: zoneName,
};

const optionalFields = Object.fromEntries(
  Object.entries(fields).map(([k, v]) => [k, v.optional()]),
) as { [K in keyof typeof fields]: z.ZodOptional<(typeof fields)[K]> };

/** POST /admin/activities, and an activity in an import file. */
export const activityCreateSchema = z.strictObject({
  ...optionalFields,
  name: fields.name,
  series: seriesSchema.optional(),
});

/** PATCH /admin/activities/:id: any of the fields; null clears an optional one. */
export const activityPatchSchema = z
  .strictObject(optionalFields)
  .refine((p) => Object.keys(p).length > 0, 'give at least one field to change');

export type ActivityCreate = z.output<typeof activityCreateSchema>;
export type ActivityPatch = z.output<typeof activityPatchSchema>;
export type ActivityFields = Omit<ActivityCreate, 'series'>;
