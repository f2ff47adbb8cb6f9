import type { Duration, DurationLikeObject } from 'luxon';
import { durationPattern } from './flow-schema.js';

const UNITS: Record<string, keyof DurationLikeObject> = {
  m: 'minutes',
  h: 'hours',
  d: 'days',
  w: 'weeks',
};

/** Parses `30m`, `25h`, `3d`, `2w` into a luxon duration object (validated by the flow schema). */
export function parseDuration(text: string): DurationLikeObject {
  const m = durationPattern.exec(text.trim());
  const unit = m?.[2] ? UNITS[m[2]] : undefined;
  if (!m || !unit) throw new RangeError(`not a duration: ${text}`);
  return { [unit]: Number(m[1]) };
}

export type { Duration };
