/**
 * Plans the scheduled messages of one booking. Pure: the caller passes `now`; instants in,
 * ISO UTC instants out. Rules (copy to the README):
 *
 * - The day before: the previous CALENDAR day in the participant's zone, not 24 h
 *   earlier. A reminder set for 10:00 is at 10:00 local the day before even when the
 *   clocks change in between (then 23 or 25 h before the session), never 09:00 or 11:00.
 * - DST: local times become instants by atLocal (local-time.ts). A time in the
 *   spring-forward gap moves forward by the gap (01:30 -> 02:30 BST); a time in the
 *   repeated autumn hour is its FIRST occurrence (01:30 BST), so it is planned once.
 * - Participant quiet hours (default 20:00-09:00 in the participant's zone; bank holidays
 *   ordinary days unless policy `holidays: 'quiet'`): a day-before reminder whose time is
 *   quiet moves to the last allowed minute before it (19:59 the evening before). If that
 *   is at or after the session start, or already past `now`, it is skipped.
 * - Same-day reminder (only if the activity asks for one): 09:00 local for a session
 *   starting at or after 11:00, else 2 h before the start; if that is quiet it moves LATER
 *   to the end of quiet hours (a same-day reminder never moves to the evening before: the
 *   day-before reminder covers that), but never closer than 1 h to the start, else it is
 *   skipped as too close.
 * - Lead summary: 16:00 the day before in the activity's zone. Attendance nudge: 30 min
 *   after the session ends. Leads are staff or volunteers, so participant quiet hours and
 *   bank holidays do not apply; an SMS lead gets nothing 21:00-08:00 activity time (the
 *   summary moves earlier, to 20:59; the nudge later, to 08:00); Slack leads are not held.
 * - Anything due before `now` is skipped with a reason, never sent late from here. A job
 *   that fires late into quiet hours is deferred by nextAllowedAfter (quiet-hours.ts).
 * - Replies to the participant's own message and safety messages are not planned here
 *   and are never held by quiet hours.
 */
import { DateTime } from 'luxon';
import type { BankHolidayRegion } from './bank-holidays.js';
import {
  addDays,
  atLocal,
  type Instant,
  type IsoDate,
  localDate,
  localWallTime,
  type ResolvedLocal,
  resolveLocal,
  toInstant,
  type WallTime,
} from './local-time.js';
import { DEFAULT_PLAN_POLICY, type PlanPolicy } from './plan-policy.js';
import {
  DEFAULT_QUIET_HOURS,
  isQuiet,
  lastAllowedBefore,
  nextAllowedAfter,
  type QuietHours,
  type QuietOptions,
} from './quiet-hours.js';

export type PlanKind =
  | 'reminder_day_before'
  | 'reminder_same_day'
  | 'lead_summary'
  | 'attendance_nudge';

export type SkipReason =
  | 'time_passed'
  | 'session_started'
  | 'quiet_hours_no_time_left'
  | 'too_close_to_session';

export interface PlannedItem {
  kind: PlanKind;
  /** ISO instant in UTC, e.g. 2026-03-29T09:00:00Z. */
  dueAt: string;
  note?: string;
}

export interface SkippedItem {
  kind: PlanKind;
  reason: SkipReason;
  note?: string;
}

export interface BookingPlan {
  items: PlannedItem[];
  skipped: SkippedItem[];
}

export interface BookingPlanInput {
  session: { startsAt: Instant; endsAt: Instant };
  activity: { zone: string; sameDayReminder: boolean; leadChannel: 'sms' | 'slack' };
  participant: { zone: string; quietHours?: QuietHours; region?: BankHolidayRegion };
  now: Instant;
}

type Outcome = PlannedItem | SkippedItem;

interface Ctx {
  start: DateTime;
  end: DateTime;
  now: DateTime;
  input: BookingPlanInput;
  policy: PlanPolicy;
  quiet: QuietHours;
  quietOpts: QuietOptions;
}

const iso = (t: DateTime): string => t.toUTC().toISO({ suppressMilliseconds: true }) as string;

function dstNote(r: ResolvedLocal, date: IsoDate, time: WallTime, zone: string): string[] {
  if (r.resolution === 'gap_shifted') {
    return [`${time} does not exist on ${date} in ${zone}; moved forward by the gap`];
  }
  if (r.resolution === 'repeated_first') {
    return [`${time} occurs twice on ${date} in ${zone}; the first occurrence is used`];
  }
  return [];
}

function done(kind: PlanKind, due: DateTime, notes: string[]): PlannedItem {
  return notes.length > 0
    ? { kind, dueAt: iso(due), note: notes.join('; ') }
    : { kind, dueAt: iso(due) };
}

function skip(kind: PlanKind, reason: SkipReason, note?: string): SkippedItem {
  return note === undefined ? { kind, reason } : { kind, reason, note };
}

function dayBeforeReminder(c: Ctx): Outcome {
  const kind = 'reminder_day_before';
  const zone = c.input.participant.zone;
  if (c.now >= c.start) return skip(kind, 'session_started');
  const date = addDays(localDate(c.start, zone), -1);
  const resolved = resolveLocal(date, c.policy.dayBeforeAt, zone);
  const notes = dstNote(resolved, date, c.policy.dayBeforeAt, zone);
  let due = resolved.instant;
  if (isQuiet(due, zone, c.quiet, c.quietOpts)) {
    due = lastAllowedBefore(due, zone, c.quiet, c.quietOpts);
    notes.push(`moved earlier out of quiet hours to ${localWallTime(due, zone)} local`);
    if (due >= c.start || due < c.now) {
      return skip(kind, 'quiet_hours_no_time_left', notes.join('; '));
    }
  }
  if (due < c.now) return skip(kind, 'time_passed', `was due ${iso(due)}`);
  return done(kind, due, notes);
}

function sameDayTarget(c: Ctx, zone: string): DateTime {
  const { policy } = c;
  const date = localDate(c.start, zone);
  const startsLate = localWallTime(c.start, zone) >= policy.sameDayLateStartFrom;
  const preferred = startsLate
    ? atLocal(date, policy.sameDayMorningAt, zone)
    : c.start.minus({ minutes: policy.sameDayLeadMinutes });
  const dayStart = atLocal(date, '00:00', zone);
  const target = DateTime.max(preferred, dayStart);
  return nextAllowedAfter(target, zone, c.quiet, c.quietOpts);
}

function sameDayReminder(c: Ctx): Outcome | undefined {
  const kind = 'reminder_same_day';
  if (!c.input.activity.sameDayReminder) return undefined;
  if (c.now >= c.start) return skip(kind, 'session_started');
  const zone = c.input.participant.zone;
  const due = sameDayTarget(c, zone);
  const latest = c.start.minus({ minutes: c.policy.sameDayMinLeadMinutes });
  if (due > latest) {
    const note = `earliest allowed time ${localWallTime(due, zone)} local is under ${c.policy.sameDayMinLeadMinutes} min before the start`;
    return skip(kind, 'too_close_to_session', note);
  }
  if (due < c.now) return skip(kind, 'time_passed', `was due ${iso(due)}`);
  return done(kind, due, []);
}

function leadHeld(c: Ctx): QuietHours | undefined {
  return c.input.activity.leadChannel === 'sms' ? c.policy.leadSmsQuietHours : undefined;
}

function leadSummary(c: Ctx): Outcome {
  const kind = 'lead_summary';
  const zone = c.input.activity.zone;
  if (c.now >= c.start) return skip(kind, 'session_started');
  const date = addDays(localDate(c.start, zone), -1);
  const resolved = resolveLocal(date, c.policy.leadSummaryAt, zone);
  const notes = dstNote(resolved, date, c.policy.leadSummaryAt, zone);
  let due = resolved.instant;
  const held = leadHeld(c);
  if (held && isQuiet(due, zone, held)) {
    due = lastAllowedBefore(due, zone, held);
    notes.push(`moved earlier out of SMS lead quiet hours to ${localWallTime(due, zone)} local`);
  }
  if (due < c.now) return skip(kind, 'time_passed', `was due ${iso(due)}`);
  return done(kind, due, notes);
}

function attendanceNudge(c: Ctx): Outcome {
  const kind = 'attendance_nudge';
  const zone = c.input.activity.zone;
  let due = c.end.plus({ minutes: c.policy.attendanceNudgeAfterMinutes });
  const notes: string[] = [];
  const held = leadHeld(c);
  if (held && isQuiet(due, zone, held)) {
    due = nextAllowedAfter(due, zone, held);
    notes.push(`deferred out of SMS lead quiet hours to ${localWallTime(due, zone)} local`);
  }
  if (due < c.now) return skip(kind, 'time_passed', `was due ${iso(due)}`);
  return done(kind, due, notes);
}

function context(input: BookingPlanInput, policy: Partial<PlanPolicy>): Ctx {
  const merged: PlanPolicy = { ...DEFAULT_PLAN_POLICY, ...policy };
  const start = toInstant(input.session.startsAt);
  const end = toInstant(input.session.endsAt);
  if (end <= start) throw new RangeError('session endsAt must be after startsAt');
  const { region } = input.participant;
  const quietOpts: QuietOptions = { holidays: merged.holidays };
  if (region) {
    quietOpts.region = region;
    const overrides = merged.bankHolidayOverrides[region];
    if (overrides) quietOpts.bankHolidayOverrides = overrides;
  }
  const quiet = input.participant.quietHours ?? DEFAULT_QUIET_HOURS;
  return { start, end, now: toInstant(input.now), input, policy: merged, quiet, quietOpts };
}

/** Plans one booking's reminders and lead messages; see the rules at the top of the file. */
export function planBookingItems(
  input: BookingPlanInput,
  policy: Partial<PlanPolicy> = {},
): BookingPlan {
  const c = context(input, policy);
  const outcomes = [dayBeforeReminder(c), sameDayReminder(c), leadSummary(c), attendanceNudge(c)];
  const items: PlannedItem[] = [];
  const skipped: SkippedItem[] = [];
  for (const o of outcomes) {
    if (o === undefined) continue;
    if ('dueAt' in o) items.push(o);
    else skipped.push(o);
  }
  items.sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  return { items, skipped };
}
