import { z } from 'zod';
import { BookingError } from './errors.js';
import { isoDate, wallTime } from './fields.js';
import { type SeriesSpec, seriesWallTimes, WEEKDAYS } from './series.js';

const duration = z
  .number()
  .int('expected whole minutes')
  .min(5, 'at least 5 minutes')
  .max(24 * 60, 'at most 1440 minutes');

const weeklySchema = z.strictObject({
  days: z
    .array(z.enum(WEEKDAYS, { error: `expected one of ${WEEKDAYS.join(', ')}` }))
    .min(1, 'give at least one day')
    .refine((days) => new Set(days).size === days.length, 'a day is listed twice'),
  time: wallTime,
  duration_minutes: duration,
});

/** Runs the expansion itself (zone-free) so every refusal is a field error at parse time. */
function checkSeries(spec: SeriesSpec, ctx: z.RefinementCtx): void {
  if (spec.weekly && (spec.time !== undefined || spec.duration_minutes !== undefined)) {
    ctx.addIssue({
      code: 'custom',
      path: [spec.time !== undefined ? 'time' : 'duration_minutes'],
      message: 'with weekly, give time and duration_minutes inside weekly',
    });
    return;
  }
  if (spec.rrule !== undefined && spec.duration_minutes === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['duration_minutes'],
      message: 'an rrule series needs duration_minutes',
    });
  }
  try {
    seriesWallTimes(spec);
  } catch (err) {
    if (!(err instanceof BookingError)) throw err;
    ctx.addIssue({ code: 'custom', path: [...err.path], message: err.message });
  }
}

/** A recurring series: `weekly`, or `rrule` with `time` and `duration_minutes`. */
export const seriesSchema = z
  .strictObject({
    start_date: isoDate,
    end_date: isoDate.optional(),
    weekly: weeklySchema.optional(),
    rrule: z.string().min(1).max(500).optional(),
    time: wallTime.optional(),
    duration_minutes: duration.optional(),
  })
  // Only once every field parsed: the expansion needs real dates and times.
  .superRefine(checkSeries, { when: (payload) => payload.issues.length === 0 });

export type SeriesInput = z.output<typeof seriesSchema>;
