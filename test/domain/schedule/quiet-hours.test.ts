import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localWallTime } from '../../../src/domain/schedule/local-time.js';
import {
  DEFAULT_QUIET_HOURS,
  heldByQuietHours,
  isQuiet,
  lastAllowedBefore,
  nextAllowedAfter,
  type QuietHours,
  quietHoursSchema,
} from '../../../src/domain/schedule/quiet-hours.js';

const LONDON = 'Europe/London';
const iso = (t: DateTime): string | null => t.toISO({ suppressMilliseconds: true });

/** What a person reading the wall clock would say: is this inside the window? */
function wallClockQuiet(instant: DateTime, zone: string, qh: QuietHours): boolean {
  const wall = localWallTime(instant, zone);
  if (qh.start === qh.end) return false;
  if (qh.start < qh.end) return wall >= qh.start && wall < qh.end;
  return wall >= qh.start || wall < qh.end;
}

// The weekend of each 2026 and 2027 clock change (Sunday given), Friday noon to Tuesday noon.
const CHANGE_SUNDAYS = ['2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31'];

describe('isQuiet', () => {
  it('uses start inclusive, end exclusive', () => {
    expect(isQuiet('2026-06-10T18:59:00Z', LONDON)).toBe(false); // 19:59 BST
    expect(isQuiet('2026-06-10T19:00:00Z', LONDON)).toBe(true); // 20:00 BST
    expect(isQuiet('2026-06-11T07:59:00Z', LONDON)).toBe(true); // 08:59 BST
    expect(isQuiet('2026-06-11T08:00:00Z', LONDON)).toBe(false); // 09:00 BST
  });

  it('supports a same-day window and no window', () => {
    const lunch = { start: '12:00', end: '13:30' };
    expect(isQuiet('2026-01-10T12:15:00Z', LONDON, lunch)).toBe(true);
    expect(isQuiet('2026-01-10T13:30:00Z', LONDON, lunch)).toBe(false);
    expect(isQuiet('2026-01-10T22:00:00Z', LONDON, lunch)).toBe(false);
    expect(isQuiet('2026-01-10T03:00:00Z', LONDON, { start: '00:00', end: '00:00' })).toBe(false);
  });

  const windows: QuietHours[] = [
    DEFAULT_QUIET_HOURS,
    { start: '22:30', end: '07:15' },
    { start: '12:00', end: '13:30' },
  ];
  for (const sunday of CHANGE_SUNDAYS) {
    for (const zone of [LONDON, 'Europe/Warsaw']) {
      it(`agrees with the wall clock every 15 min around ${sunday} in ${zone}`, () => {
        const from = DateTime.fromISO(`${sunday}T12:00`, { zone }).minus({ days: 2 });
        const to = from.plus({ days: 4 });
        for (let t = from.toUTC(); t < to; t = t.plus({ minutes: 15 })) {
          for (const qh of windows) {
            const label = `${iso(t)} ${JSON.stringify(qh)}`;
            expect(isQuiet(t, zone, qh), label).toBe(wallClockQuiet(t, zone, qh));
          }
        }
      });
    }
  }

  it('treats a bank holiday as quiet all day only under the quiet policy', () => {
    const easterMonday10 = '2026-04-06T09:00:00Z'; // 10:00 BST
    expect(isQuiet(easterMonday10, LONDON)).toBe(false);
    const ew = { holidays: 'quiet', region: 'england-and-wales' } as const;
    expect(isQuiet(easterMonday10, LONDON, DEFAULT_QUIET_HOURS, ew)).toBe(true);
    const scot = { holidays: 'quiet', region: 'scotland' } as const;
    expect(isQuiet(easterMonday10, LONDON, DEFAULT_QUIET_HOURS, scot)).toBe(false);
    const removed = { ...ew, bankHolidayOverrides: { add: [], remove: ['2026-04-06'] } };
    expect(isQuiet(easterMonday10, LONDON, DEFAULT_QUIET_HOURS, removed)).toBe(false);
    const added = { ...ew, bankHolidayOverrides: { add: ['2026-06-10'], remove: [] } };
    expect(isQuiet('2026-06-10T11:00:00Z', LONDON, DEFAULT_QUIET_HOURS, added)).toBe(true);
  });

  it('rejects malformed windows', () => {
    expect(quietHoursSchema.safeParse({ start: '8:00', end: '20:00' }).success).toBe(false);
    expect(() =>
      isQuiet('2026-06-10T10:00:00Z', LONDON, { start: '24:00', end: '09:00' }),
    ).toThrow();
  });
});

describe('lastAllowedBefore', () => {
  it('returns an allowed instant unchanged', () => {
    expect(iso(lastAllowedBefore('2026-06-10T10:17:30Z', LONDON))).toBe('2026-06-10T10:17:30Z');
  });

  it('moves a quiet time to the minute before quiet hours began', () => {
    // 08:00 BST on 10 June -> 19:59 BST on 9 June
    expect(iso(lastAllowedBefore('2026-06-10T07:00:00Z', LONDON))).toBe('2026-06-09T18:59:00Z');
    // 23:00 -> 19:59 the same evening
    expect(iso(lastAllowedBefore('2026-06-10T22:00:00Z', LONDON))).toBe('2026-06-10T18:59:00Z');
  });

  it('crosses the spring change on local wall time', () => {
    // 08:00 BST Sunday 29 March -> 19:59 GMT Saturday 28 March
    expect(iso(lastAllowedBefore('2026-03-29T07:00:00Z', LONDON))).toBe('2026-03-28T19:59:00Z');
    // 08:00 GMT Sunday 25 October -> 19:59 BST Saturday 24 October
    expect(iso(lastAllowedBefore('2026-10-25T08:00:00Z', LONDON))).toBe('2026-10-24T18:59:00Z');
  });

  it('steps back over a quiet bank holiday and the night before it', () => {
    const opts = { holidays: 'quiet', region: 'england-and-wales' } as const;
    // Easter Monday 10:00 BST -> Sunday 19:59 BST
    expect(iso(lastAllowedBefore('2026-04-06T09:00:00Z', LONDON, DEFAULT_QUIET_HOURS, opts))).toBe(
      '2026-04-05T18:59:00Z',
    );
  });
});

describe('nextAllowedAfter', () => {
  it('defers a job that ran late to 22:00 until 09:00 the next day', () => {
    expect(iso(nextAllowedAfter('2026-06-10T21:00:00Z', LONDON))).toBe('2026-06-11T08:00:00Z');
    expect(iso(nextAllowedAfter('2026-01-10T22:00:00Z', LONDON))).toBe('2026-01-11T09:00:00Z');
  });

  it('returns an allowed instant unchanged', () => {
    expect(iso(nextAllowedAfter('2026-06-11T08:00:00Z', LONDON))).toBe('2026-06-11T08:00:00Z');
  });

  it('lands on 09:00 local across each change', () => {
    // 22:00 GMT Saturday -> 09:00 BST Sunday
    expect(iso(nextAllowedAfter('2026-03-28T22:00:00Z', LONDON))).toBe('2026-03-29T08:00:00Z');
    // 22:00 BST Saturday -> 09:00 GMT Sunday
    expect(iso(nextAllowedAfter('2026-10-24T21:00:00Z', LONDON))).toBe('2026-10-25T09:00:00Z');
    expect(iso(nextAllowedAfter('2027-03-27T22:00:00Z', LONDON))).toBe('2027-03-28T08:00:00Z');
    expect(iso(nextAllowedAfter('2027-10-30T21:00:00Z', LONDON))).toBe('2027-10-31T09:00:00Z');
  });

  it('skips consecutive quiet bank holidays', () => {
    const opts = { holidays: 'quiet', region: 'england-and-wales' } as const;
    // Christmas 2027: Sat, Sun, Mon 27 and Tue 28 (substitutes) -> Wednesday 09:00 GMT
    expect(iso(nextAllowedAfter('2027-12-27T10:00:00Z', LONDON, DEFAULT_QUIET_HOURS, opts))).toBe(
      '2027-12-29T09:00:00Z',
    );
  });
});

describe('heldByQuietHours', () => {
  it('holds scheduled messages only, never replies or safety messages', () => {
    expect(heldByQuietHours('scheduled')).toBe(true);
    expect(heldByQuietHours('reply')).toBe(false);
    expect(heldByQuietHours('safety')).toBe(false);
  });
});
