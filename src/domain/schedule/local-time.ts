/**
 * Local wall time <-> instant, in an IANA zone, with luxon. Pure: no clock.
 *
 * DST rule for a wall time that does not map to exactly one instant ("compatible",
 * the same as RFC 5545, JS Date and Temporal's default):
 * - In a spring-forward gap the time moves forward by the length of the gap: 01:30 on
 *   the last Sunday of March in Europe/London becomes 02:30 BST (01:30Z), the instant
 *   01:30 GMT would have been.
 * - In a repeated autumn hour the FIRST occurrence wins: 01:30 on the last Sunday of
 *   October in Europe/London is 01:30 BST (00:30Z), never also 01:30 GMT. So it
 *   happens once.
 * Luxon alone would pick the second occurrence, hence the explicit resolution here.
 */
import { DateTime, IANAZone } from 'luxon';
import { z } from 'zod';

/** An instant: a valid luxon DateTime, or an ISO string WITH an offset or `Z`. */
export type Instant = DateTime | string;
/** A calendar date, `yyyy-MM-dd`. */
export type IsoDate = string;
/** A wall-clock time, `HH:mm` (00:00-23:59). */
export type WallTime = string;

export type LocalResolution = 'exact' | 'gap_shifted' | 'repeated_first';

export interface ResolvedLocal {
  instant: DateTime;
  resolution: LocalResolution;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const WALL_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;
const HAS_OFFSET = /(?:Z|[+-]\d{2}(?::?\d{2})?)$/i;
const DAY_MS = 86_400_000;

export const WALL_TIME_PATTERN = WALL_TIME;

/** The one wire format of a wall time, for every schema (config, policy, admin API, import). */
export const wallTimeSchema = (message = 'expected a time HH:mm (00:00-23:59)') =>
  z.string().regex(WALL_TIME_PATTERN, message);
export const ISO_DATE_PATTERN = ISO_DATE;

/** Parses `HH:mm` into minutes after midnight; throws on anything else. */
export function wallTimeMinutes(time: WallTime): number {
  const m = WALL_TIME.exec(time);
  if (!m) throw new RangeError(`invalid wall time "${time}", expected HH:mm`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Resolves an IANA zone name; throws for an unknown zone (caller misuse). */
export function ianaZone(zone: string): IANAZone {
  const z = IANAZone.create(zone);
  if (!z.isValid) throw new RangeError(`unknown IANA time zone "${zone}"`);
  return z;
}

/**
 * Normalises an instant to a UTC DateTime. An ISO string without an offset is refused:
 * reading it in the host's zone would make the result depend on the machine.
 */
export function toInstant(value: Instant): DateTime {
  if (typeof value === 'string') {
    if (!HAS_OFFSET.test(value)) {
      throw new RangeError(`instant "${value}" has no offset; add Z or +hh:mm`);
    }
    const parsed = DateTime.fromISO(value, { setZone: true });
    if (!parsed.isValid) throw new RangeError(`invalid instant "${value}"`);
    return parsed.toUTC();
  }
  if (!value.isValid) throw new RangeError(`invalid DateTime: ${value.invalidReason}`);
  return value.toUTC();
}

/** Throws unless `date` is a real calendar date written `yyyy-MM-dd`. */
export function assertIsoDate(date: IsoDate): void {
  parseIsoDate(date);
}

function parseIsoDate(date: IsoDate): { year: number; month: number; day: number } {
  const m = ISO_DATE.exec(date);
  const parsed = m ? DateTime.utc(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
  if (!parsed?.isValid || parsed.toISODate() !== date) {
    throw new RangeError(`invalid date "${date}", expected yyyy-MM-dd`);
  }
  return { year: parsed.year, month: parsed.month, day: parsed.day };
}

/** Resolves a local wall time to an instant and says which DST rule applied. */
export function resolveLocal(date: IsoDate, time: WallTime, zone: string): ResolvedLocal {
  const z = ianaZone(zone);
  const { year, month, day } = parseIsoDate(date);
  const minutes = wallTimeMinutes(time);
  // The wall time read as if it were UTC; a real instant is this minus the zone offset.
  const naive = Date.UTC(year, month - 1, day) + minutes * 60_000;
  // Offsets either side of the wall time (zones change offset at most once in 2 days).
  const before = z.offset(naive - DAY_MS);
  const after = z.offset(naive + DAY_MS);
  const candidates = [...new Set([before, after])]
    .map((offset) => naive - offset * 60_000)
    .filter((ts) => ts + z.offset(ts) * 60_000 === naive)
    .sort((a, b) => a - b);
  const first = candidates[0];
  if (first === undefined) {
    // Gap: keep the offset from before the change, which moves forward by the gap.
    return {
      instant: DateTime.fromMillis(naive - before * 60_000, { zone: 'utc' }),
      resolution: 'gap_shifted',
    };
  }
  const resolution: LocalResolution = candidates.length > 1 ? 'repeated_first' : 'exact';
  return { instant: DateTime.fromMillis(first, { zone: 'utc' }), resolution };
}

/** The instant of a local wall time (see the DST rule at the top of this file), in UTC. */
export function atLocal(date: IsoDate, time: WallTime, zone: string): DateTime {
  return resolveLocal(date, time, zone).instant;
}

/** The calendar date of an instant in a zone. */
export function localDate(instant: Instant, zone: string): IsoDate {
  ianaZone(zone);
  return toInstant(instant).setZone(zone).toISODate() as IsoDate;
}

/** Calendar arithmetic on ISO dates (no zone involved). */
export function addDays(date: IsoDate, days: number): IsoDate {
  const { year, month, day } = parseIsoDate(date);
  return DateTime.utc(year, month, day).plus({ days }).toISODate() as IsoDate;
}

/** `HH:mm` of an instant in a zone, for notes and tests. */
export function localWallTime(instant: Instant, zone: string): WallTime {
  return toInstant(instant).setZone(zone).toFormat('HH:mm');
}
