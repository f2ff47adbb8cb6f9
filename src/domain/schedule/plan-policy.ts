/**
 * The knobs of booking planning, with their defaults. The rules they feed are described
 * at the top of plan.ts. The schema is for the config layer: validate once at boot, then
 * pass the parsed policy in.
 */
import { z } from 'zod';
import { regionalBankHolidayOverridesSchema } from './bank-holidays.js';
import { wallTimeSchema } from './local-time.js';
import { quietHoursSchema } from './quiet-hours.js';

const wallTime = wallTimeSchema();
const minutes = z
  .number()
  .int()
  .min(0)
  .max(24 * 60);

export const planPolicySchema = z.object({
  dayBeforeAt: wallTime.default('10:00').describe('participant local time, the day before'),
  sameDayMorningAt: wallTime
    .default('09:00')
    .describe('same-day reminder time for sessions starting at or after sameDayLateStartFrom'),
  sameDayLateStartFrom: wallTime.default('11:00'),
  sameDayLeadMinutes: minutes
    .default(120)
    .describe('same-day reminder lead time for sessions starting before sameDayLateStartFrom'),
  sameDayMinLeadMinutes: minutes
    .default(60)
    .describe('a same-day reminder is never later than this before the start'),
  leadSummaryAt: wallTime.default('16:00').describe('activity local time, the day before'),
  attendanceNudgeAfterMinutes: minutes.default(30).describe('after the session ends'),
  leadSmsQuietHours: quietHoursSchema
    .default({ start: '21:00', end: '08:00' })
    .describe('activity-zone hours in which SMS leads get nothing (Slack leads are not held)'),
  holidays: z
    .enum(['normal', 'quiet'])
    .default('normal')
    .describe("'quiet' makes a bank holiday quiet all day for participant reminders"),
  bankHolidayOverrides: regionalBankHolidayOverridesSchema.default({}),
  checkinWeeks: z
    .array(z.number().int().min(1).max(99))
    .default([6, 12])
    .describe('weeks after the referral an ONS4 check-in is planned (CHECKIN_WEEKS)'),
});

export type PlanPolicy = z.output<typeof planPolicySchema>;

export const DEFAULT_PLAN_POLICY: Readonly<PlanPolicy> = Object.freeze(planPolicySchema.parse({}));
