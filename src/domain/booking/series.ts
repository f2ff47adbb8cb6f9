/**
 * Expands a session series into occurrences. Pure.
 *
 * Rules (copy to the README):
 * - A series is local wall time in the ACTIVITY's zone: "Mondays 10:00" is 10:00 on every
 *   Monday on both sides of a DST change (09:00Z in summer, 10:00Z in winter). Dates are
 *   enumerated as calendar days first, then each (date, time) becomes an instant with
 *   atLocal, so a time in the spring-forward gap moves forward by the gap and a time in the
 *   repeated autumn hour is its first occurrence.
 * - `weekly`: the given weekdays between start_date and end_date, both inclusive.
 * - `rrule`: an RFC 5545 rule without DTSTART (start_date and `time` are the DTSTART). The
 *   rule is evaluated on "floating" wall times, so UNTIL is read as a local date/time in
 *   the activity's zone (a date-only UNTIL includes that whole day); end_date (inclusive)
 *   also bounds it. Without end_date the rule
 *   needs UNTIL or COUNT. Sub-daily frequencies and BYHOUR/BYMINUTE/BYSECOND are refused:
 *   the time of day is `time`.
 * - Duration is real elapsed minutes from the start.
 * - At most MAX_OCCURRENCES: a longer series is refused, never silently cut.
 */
import rrulePkg, { type Options as RuleOptions } from 'rrule';
import { addDays, atLocal, type IsoDate, type WallTime } from '../schedule/local-time.js';
import { BookingError } from './errors.js';

const { RRule } = rrulePkg;

export const MAX_OCCURRENCES = 200;
export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WeeklyPattern {
  days: readonly Weekday[];
  time: WallTime;
  duration_minutes: number;
}

export interface SeriesSpec {
  start_date: IsoDate;
  end_date?: IsoDate | undefined;
  weekly?: WeeklyPattern | undefined;
  rrule?: string | undefined;
  /** With `rrule`: the local start time and the duration of each session. */
  time?: WallTime | undefined;
  duration_minutes?: number | undefined;
}

export interface WallOccurrence {
  date: IsoDate;
  time: WallTime;
}

export interface Occurrence {
  startsAt: Date;
  endsAt: Date;
  /** The local date and time in the activity's zone, as the series asked for. */
  localDate: IsoDate;
  localTime: WallTime;
}

const fail = (message: string, path: string[] = []): never => {
  throw new BookingError('invalid_series', message, { path });
};

function tooMany(): never {
  return fail(`the series has more than ${MAX_OCCURRENCES} sessions; shorten it`, ['end_date']);
}

function weeklyWallTimes(start: IsoDate, end: IsoDate, weekly: WeeklyPattern): WallOccurrence[] {
  const out: WallOccurrence[] = [];
  for (let date = start, i = 0; date <= end; date = addDays(date, 1), i += 1) {
    // Day 0 is start_date; its weekday is computed once, then counted on.
    const weekday = WEEKDAYS[(isoWeekday(start) - 1 + i) % 7]!;
    if (!weekly.days.includes(weekday)) continue;
    out.push({ date, time: weekly.time });
    if (out.length > MAX_OCCURRENCES) tooMany();
  }
  return out;
}

function isoWeekday(date: IsoDate): number {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay();
  return day === 0 ? 7 : day;
}

const floating = (date: IsoDate, time: WallTime): Date => new Date(`${date}T${time}:00Z`);

function parseRule(text: string): Partial<RuleOptions> {
  const body = text.trim().replace(/^RRULE:/i, '');
  if (/DTSTART|TZID|[\r\n]/i.test(body)) {
    fail('give the rule alone, without DTSTART or TZID (start_date and time are the start)', [
      'rrule',
    ]);
  }
  let options: Partial<RuleOptions>;
  try {
    // A date-only UNTIL means the whole of that day (RFC 5545 would want a date-time here).
    options = RRule.parseString(body.replace(/UNTIL=(\d{8})(?=;|$)/i, 'UNTIL=$1T235959'));
  } catch (err) {
    return fail(`not a valid RRULE: ${(err as Error).message}`, ['rrule']);
  }
  if (options.freq === undefined || options.freq > RRule.DAILY) {
    fail('FREQ must be DAILY, WEEKLY, MONTHLY or YEARLY', ['rrule']);
  }
  if (/BYHOUR|BYMINUTE|BYSECOND/i.test(body)) {
    fail('BYHOUR, BYMINUTE and BYSECOND are not allowed: the time comes from `time`', ['rrule']);
  }
  return options;
}

function ruleWallTimes(spec: SeriesSpec, time: WallTime): WallOccurrence[] {
  const options = parseRule(spec.rrule ?? '');
  const bounded = spec.end_date !== undefined || options.until || options.count;
  if (!bounded) fail('give end_date, or UNTIL or COUNT in the rule', ['end_date']);
  const rule = new RRule({ ...options, dtstart: floating(spec.start_date, time) });
  const keep = (_d: Date, len: number): boolean => len <= MAX_OCCURRENCES;
  const dates =
    spec.end_date === undefined
      ? rule.all(keep)
      : rule.between(
          floating(spec.start_date, '00:00'),
          floating(spec.end_date, '23:59'),
          true,
          keep,
        );
  if (dates.length > MAX_OCCURRENCES) tooMany();
  return dates.map((d) => ({
    date: d.toISOString().slice(0, 10),
    time: d.toISOString().slice(11, 16),
  }));
}

/** The local (date, time) of every occurrence; throws `invalid_series` with a field path. */
export function seriesWallTimes(spec: SeriesSpec): WallOccurrence[] {
  const walls = wallTimesOf(spec);
  if (walls.length === 0) fail('the series has no sessions', [spec.weekly ? 'weekly' : 'rrule']);
  return walls;
}

function wallTimesOf(spec: SeriesSpec): WallOccurrence[] {
  if (spec.end_date !== undefined && spec.end_date < spec.start_date) {
    fail('end_date is before start_date', ['end_date']);
  }
  if (spec.weekly && spec.rrule !== undefined) fail('give weekly or rrule, not both', ['rrule']);
  if (spec.weekly) {
    if (spec.end_date === undefined) return fail('a weekly series needs end_date', ['end_date']);
    return weeklyWallTimes(spec.start_date, spec.end_date, spec.weekly);
  }
  if (spec.rrule === undefined) return fail('give weekly or rrule', ['weekly']);
  if (spec.time === undefined) return fail('an rrule series needs time (HH:mm)', ['time']);
  return ruleWallTimes(spec, spec.time);
}

function durationOf(spec: SeriesSpec): number {
  const minutes = spec.weekly?.duration_minutes ?? spec.duration_minutes;
  if (minutes === undefined) return fail('give duration_minutes', ['duration_minutes']);
  return minutes;
}

/** Occurrences as UTC instants, computed as wall times in `zone` (see the rules above). */
export function expandSeries(spec: SeriesSpec & { zone: string }): Occurrence[] {
  const walls = seriesWallTimes(spec);
  const minutes = durationOf(spec);
  return walls.map(({ date, time }) => {
    const start = atLocal(date, time, spec.zone);
    return {
      startsAt: start.toJSDate(),
      endsAt: start.plus({ minutes }).toJSDate(),
      localDate: date,
      localTime: time,
    };
  });
}
