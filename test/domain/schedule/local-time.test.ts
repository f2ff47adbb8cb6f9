import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  atLocal,
  localDate,
  localWallTime,
  resolveLocal,
  toInstant,
} from '../../../src/domain/schedule/local-time.js';

const LONDON = 'Europe/London';
const iso = (t: DateTime): string | null => t.toISO({ suppressMilliseconds: true });

describe('atLocal', () => {
  it('resolves ordinary times with the offset of the day', () => {
    expect(iso(atLocal('2026-01-15', '10:00', LONDON))).toBe('2026-01-15T10:00:00Z');
    expect(iso(atLocal('2026-06-15', '10:00', LONDON))).toBe('2026-06-15T09:00:00Z');
    expect(iso(atLocal('2026-06-15', '10:00', 'Europe/Warsaw'))).toBe('2026-06-15T08:00:00Z');
  });

  it.each([
    // spring forward: 01:00 GMT -> 02:00 BST at 01:00Z; 01:00-01:59 do not exist
    ['2026-03-29', '00:59', '2026-03-29T00:59:00Z', 'exact'],
    ['2026-03-29', '01:00', '2026-03-29T01:00:00Z', 'gap_shifted'],
    ['2026-03-29', '01:30', '2026-03-29T01:30:00Z', 'gap_shifted'],
    ['2026-03-29', '02:00', '2026-03-29T01:00:00Z', 'exact'],
    ['2026-03-29', '02:30', '2026-03-29T01:30:00Z', 'exact'],
    ['2027-03-28', '01:30', '2027-03-28T01:30:00Z', 'gap_shifted'],
    // fall back: 02:00 BST -> 01:00 GMT at 01:00Z; 01:00-01:59 happen twice
    ['2026-10-25', '00:59', '2026-10-24T23:59:00Z', 'exact'],
    ['2026-10-25', '01:00', '2026-10-25T00:00:00Z', 'repeated_first'],
    ['2026-10-25', '01:30', '2026-10-25T00:30:00Z', 'repeated_first'],
    ['2026-10-25', '02:00', '2026-10-25T02:00:00Z', 'exact'],
    ['2027-10-31', '01:30', '2027-10-31T00:30:00Z', 'repeated_first'],
  ])('Europe/London %s %s -> %s (%s)', (date, time, instant, resolution) => {
    const r = resolveLocal(date, time, LONDON);
    expect(iso(r.instant)).toBe(instant);
    expect(r.resolution).toBe(resolution);
    expect(iso(atLocal(date, time, LONDON))).toBe(instant);
  });

  it('moves a gap time forward by the gap: 01:30 becomes 02:30 BST', () => {
    const local = atLocal('2026-03-29', '01:30', LONDON).setZone(LONDON);
    expect(local.toFormat('HH:mm ZZ')).toBe('02:30 +01:00');
  });

  it('resolves every wall time of the repeated hour once, to its first occurrence', () => {
    // Walk the instants of the autumn night: each wall time in 01:00-01:59 is seen twice,
    // and atLocal maps it back to the first (BST) sighting only.
    const seen = new Map<string, string[]>();
    let t = DateTime.fromISO('2026-10-24T23:00:00Z', { zone: 'utc' });
    while (t < DateTime.fromISO('2026-10-25T03:00:00Z', { zone: 'utc' })) {
      const wall = localWallTime(t, LONDON);
      seen.set(wall, [...(seen.get(wall) ?? []), iso(t) as string]);
      t = t.plus({ minutes: 15 });
    }
    for (const [wall, instants] of seen) {
      const resolved = iso(atLocal('2026-10-25', wall, LONDON));
      if (wall >= '01:00' && wall < '02:00') expect(instants).toHaveLength(2);
      else expect(instants).toHaveLength(1);
      if (wall >= '01:00') expect(resolved).toBe(instants[0]);
    }
  });

  it('handles another zone by its own rules (Warsaw changes at 02:00 local)', () => {
    const gap = resolveLocal('2026-03-29', '02:30', 'Europe/Warsaw');
    expect(gap.resolution).toBe('gap_shifted');
    expect(iso(gap.instant)).toBe('2026-03-29T01:30:00Z'); // 03:30 CEST
    const twice = resolveLocal('2026-10-25', '02:30', 'Europe/Warsaw');
    expect(twice.resolution).toBe('repeated_first');
    expect(iso(twice.instant)).toBe('2026-10-25T00:30:00Z'); // 02:30 CEST
    expect(resolveLocal('2026-03-29', '01:30', 'Europe/Warsaw').resolution).toBe('exact');
  });

  it('refuses bad input', () => {
    expect(() => atLocal('2026-02-29', '10:00', LONDON)).toThrow(RangeError);
    expect(() => atLocal('2026-03-01', '24:00', LONDON)).toThrow(RangeError);
    expect(() => atLocal('2026-03-01', '9:00', LONDON)).toThrow(RangeError);
    expect(() => atLocal('2026-03-01', '09:00', 'Europe/Nowhere')).toThrow(RangeError);
  });
});

describe('instants and dates', () => {
  it('accepts ISO strings only with an offset', () => {
    expect(iso(toInstant('2026-03-29T10:00:00+01:00'))).toBe('2026-03-29T09:00:00Z');
    expect(iso(toInstant(DateTime.fromISO('2026-03-29T10:00:00+01:00')))).toBe(
      '2026-03-29T09:00:00Z',
    );
    expect(() => toInstant('2026-03-29T10:00:00')).toThrow(/no offset/);
    expect(() => toInstant('not a dateZ')).toThrow(RangeError);
    expect(() => toInstant(DateTime.invalid('test'))).toThrow(RangeError);
  });

  it('reads calendar dates in the given zone', () => {
    expect(localDate('2026-06-10T23:30:00Z', LONDON)).toBe('2026-06-11');
    expect(localDate('2026-06-10T23:30:00Z', 'America/New_York')).toBe('2026-06-10');
    expect(addDays('2026-03-01', -1)).toBe('2026-02-28');
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29');
  });
});
