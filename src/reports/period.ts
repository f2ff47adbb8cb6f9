/**
 * The report's period: two calendar days in the service zone (DEFAULT_TZ), `from`
 * inclusive and `to` exclusive, each read as local midnight. Around a clock change the
 * period is 23 or 25 hours a day long, as the calendar is.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import { ISO_DATE_PATTERN } from '../domain/schedule/local-time.js';

export const REPORT_FORMATS = ['json', 'csv'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** One problem per bad day: the calendar check runs only on the right shape. */
const day = z
  .string({ error: 'required: a date YYYY-MM-DD' })
  .regex(ISO_DATE_PATTERN, { error: 'expected a date YYYY-MM-DD', abort: true })
  .refine((s) => DateTime.fromISO(s, { zone: 'utc' }).isValid, 'not a real calendar date');

/** What a caller asks for (CLI flags, HTTP query): checked once, at the boundary. */
export const reportRequestSchema = z
  .strictObject({
    from: day,
    to: day,
    format: z.enum(REPORT_FORMATS, { error: 'expected json or csv' }).default('json'),
  })
  .refine((r) => r.from < r.to, { path: ['to'], message: 'must be a day after from' });

export type ReportRequest = z.output<typeof reportRequestSchema>;

export interface Period {
  /** The days asked for, YYYY-MM-DD; `to` is the first day NOT in the report. */
  from: string;
  to: string;
  zone: string;
  /** Local midnight at the start of `from` and of `to`, as instants. */
  start: Date;
  end: Date;
}

export function periodOf(from: string, to: string, zone: string): Period {
  const midnight = (day: string) => DateTime.fromISO(day, { zone }).startOf('day').toJSDate();
  return { from, to, zone, start: midnight(from), end: midnight(to) };
}
