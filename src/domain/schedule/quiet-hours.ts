/**
 * Quiet hours: when scheduled (non-urgent) messages are not sent. Pure: the caller passes
 * the instant.
 *
 * Rules:
 * - A window `{ start, end }` is local wall-clock time in the participant's zone, start
 *   inclusive, end exclusive: with 20:00-09:00, 20:00 is quiet and 09:00 is not.
 *   end < start wraps midnight; end > start is a same-day window (e.g. 13:00-14:00);
 *   start == end means no quiet hours.
 * - Each boundary becomes an instant with atLocal (local-time.ts), so the window follows
 *   the wall clock across DST: 20:00-09:00 lasts 12 h on the spring-forward night and
 *   14 h on the fall-back night, and nothing is sent between 20:00 and 09:00 local on
 *   either side of a change.
 * - Bank holidays: policy `holidays: 'normal'` (the DEFAULT) treats them as ordinary
 *   days; `'quiet'` (with a region) makes the whole local day quiet. The default is
 *   'normal' because reminders are service messages the participant asked for, and a
 *   holiday-quiet day would push every reminder for a session on the day after a bank
 *   holiday (Tuesday after Easter Monday) back to the evening two days before.
 * - Quiet hours hold only scheduled messages. Replies to a participant's own message and
 *   safety messages are never held: see heldByQuietHours.
 */
import { DateTime } from 'luxon';
import { z } from 'zod';
import {
  type BankHolidayOverrides,
  type BankHolidayRegion,
  isBankHoliday,
} from './bank-holidays.js';
import {
  addDays,
  atLocal,
  type Instant,
  type IsoDate,
  ianaZone,
  localDate,
  toInstant,
  type WallTime,
  wallTimeMinutes,
  wallTimeSchema,
} from './local-time.js';

export interface QuietHours {
  start: WallTime;
  end: WallTime;
}

export const DEFAULT_QUIET_HOURS: Readonly<QuietHours> = Object.freeze({
  start: '20:00',
  end: '09:00',
});

const wallTime = wallTimeSchema();
export const quietHoursSchema = z
  .object({ start: wallTime, end: wallTime })
  .describe('local quiet hours, start inclusive, end exclusive; end < start wraps midnight');

export type HolidayPolicy = 'quiet' | 'normal';
export const DEFAULT_HOLIDAY_POLICY: HolidayPolicy = 'normal';

export interface QuietOptions {
  /** Default 'normal'. 'quiet' needs `region` to mean anything. */
  holidays?: HolidayPolicy;
  region?: BankHolidayRegion;
  bankHolidayOverrides?: BankHolidayOverrides;
}

/** Why a message is sent; only scheduled messages wait for quiet hours to end. */
export type MessagePurpose = 'scheduled' | 'reply' | 'safety';

export function heldByQuietHours(purpose: MessagePurpose): boolean {
  return purpose === 'scheduled';
}

interface Span {
  from: DateTime;
  to: DateTime;
}

// A generous bound: each step leaves one quiet span, and spans are at least a minute.
const MAX_STEPS = 1000;

function windowStartingOn(date: IsoDate, zone: string, qh: QuietHours): Span | undefined {
  const start = wallTimeMinutes(qh.start);
  const end = wallTimeMinutes(qh.end);
  if (start === end) return undefined;
  const endDate = end > start ? date : addDays(date, 1);
  return { from: atLocal(date, qh.start, zone), to: atLocal(endDate, qh.end, zone) };
}

function holidayOn(date: IsoDate, zone: string, opts: QuietOptions): Span | undefined {
  if ((opts.holidays ?? DEFAULT_HOLIDAY_POLICY) !== 'quiet' || !opts.region) return undefined;
  if (!isBankHoliday(date, opts.region, opts.bankHolidayOverrides)) return undefined;
  return { from: atLocal(date, '00:00', zone), to: atLocal(addDays(date, 1), '00:00', zone) };
}

/** The quiet spans that contain the instant (usually none or one). */
function spansAt(t: DateTime, zone: string, qh: QuietHours, opts: QuietOptions): Span[] {
  const today = localDate(t, zone);
  const spans: Span[] = [];
  for (const date of [addDays(today, -1), today, addDays(today, 1)]) {
    const window = windowStartingOn(date, zone, qh);
    const holiday = holidayOn(date, zone, opts);
    if (window) spans.push(window);
    if (holiday) spans.push(holiday);
  }
  return spans.filter((s) => s.from <= t && t < s.to);
}

function check(zone: string, qh: QuietHours): void {
  ianaZone(zone);
  quietHoursSchema.parse(qh);
}

/** Whether a scheduled message must not be sent at this instant. */
export function isQuiet(
  instant: Instant,
  zone: string,
  qh: QuietHours = DEFAULT_QUIET_HOURS,
  opts: QuietOptions = {},
): boolean {
  check(zone, qh);
  return spansAt(toInstant(instant), zone, qh, opts).length > 0;
}

/**
 * The latest instant <= the given one that is not quiet. When the instant is quiet this
 * is one minute before the quiet span began (19:59 local for 20:00-09:00), stepping back
 * over adjoining spans (a quiet bank holiday, then the evening before it).
 */
export function lastAllowedBefore(
  instant: Instant,
  zone: string,
  qh: QuietHours = DEFAULT_QUIET_HOURS,
  opts: QuietOptions = {},
): DateTime {
  check(zone, qh);
  let t = toInstant(instant);
  for (let step = 0; step < MAX_STEPS; step++) {
    const spans = spansAt(t, zone, qh, opts);
    if (spans.length === 0) return t;
    const from = DateTime.min(...spans.map((s) => s.from)) ?? t;
    t = from.minus({ minutes: 1 });
  }
  throw new RangeError('quiet hours leave no allowed time');
}

/**
 * The earliest instant >= the given one that is not quiet: the end of the quiet span
 * (09:00 local for 20:00-09:00). Used when a job runs late into quiet hours: defer, don't
 * send.
 */
export function nextAllowedAfter(
  instant: Instant,
  zone: string,
  qh: QuietHours = DEFAULT_QUIET_HOURS,
  opts: QuietOptions = {},
): DateTime {
  check(zone, qh);
  let t = toInstant(instant);
  for (let step = 0; step < MAX_STEPS; step++) {
    const spans = spansAt(t, zone, qh, opts);
    if (spans.length === 0) return t;
    t = DateTime.max(...spans.map((s) => s.to)) ?? t;
  }
  throw new RangeError('quiet hours leave no allowed time');
}
