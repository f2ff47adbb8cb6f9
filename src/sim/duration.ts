import type { DurationLikeObject } from 'luxon';

const UNITS: Record<string, keyof DurationLikeObject> = {
  s: 'seconds',
  m: 'minutes',
  h: 'hours',
  d: 'days',
  w: 'weeks',
};

/** `25h`, `1d`, `1d 2h`, `90m`: one or more amounts, each with a unit s, m, h, d or w. */
export const SIM_DURATION = /^\s*(\d+\s*[smhdw]\s*)+$/;

/**
 * Parses a simulator duration. Days and weeks are calendar units in the clock's zone, so
 * `1d` across a DST change is 23 or 25 hours, as it is for the engine's own timers.
 */
export function parseSimDuration(text: string): DurationLikeObject {
  if (!SIM_DURATION.test(text)) {
    throw new RangeError(`not a duration: "${text}" (use e.g. 30m, 25h, 1d, 1d 2h, 2w)`);
  }
  const out: DurationLikeObject = {};
  for (const m of text.matchAll(/(\d+)\s*([smhdw])/g)) {
    const unit = UNITS[m[2] ?? ''];
    if (unit) out[unit] = (out[unit] ?? 0) + Number(m[1]);
  }
  return out;
}
