import { DateTime, IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { luxonOffset, memoizeZoneOffsets } from '../../../src/domain/schedule/zone-offsets.js';

memoizeZoneOffsets();

/** Zones with hour, half-hour (Lord Howe) and 45-minute (Chatham) changes, and none (Kolkata). */
const ZONES = [
  'Europe/London',
  'America/New_York',
  'Australia/Lord_Howe',
  'Pacific/Chatham',
  'Asia/Kolkata',
];

/** Every instant in 2026-2027 where the zone's offset changes, found minute by minute. */
function transitions(zone: IANAZone): number[] {
  const out: number[] = [];
  const from = Date.UTC(2026, 0, 1);
  const to = Date.UTC(2028, 0, 1);
  let before = luxonOffset(zone, from);
  // Hour steps, then the exact minute inside the hour where it changed.
  for (let t = from + 3_600_000; t <= to; t += 3_600_000) {
    const now = luxonOffset(zone, t);
    if (now === before) continue;
    let m = t - 3_600_000;
    while (luxonOffset(zone, m) === before) m += 60_000;
    out.push(m);
    before = now;
  }
  return out;
}

describe('memoised zone offsets (luxon, by zone and UTC minute)', () => {
  it.each(ZONES)(
    '%s: the same offset as luxon computes, every minute around each 2026-2027 change',
    (name) => {
      const zone = IANAZone.create(name);
      const changes = transitions(zone);
      expect(changes.length).toBe(name === 'Asia/Kolkata' ? 0 : 4);
      for (const at of [...changes, Date.UTC(2026, 5, 1, 12)]) {
        for (let t = at - 90 * 60_000; t <= at + 90 * 60_000; t += 60_000) {
          // The first and the last millisecond of the minute, memoised or not, agree with luxon.
          for (const ts of [t, t + 59_999, t + 30_000]) {
            expect(zone.offset(ts)).toBe(luxonOffset(zone, ts));
          }
        }
      }
    },
  );

  it('a DateTime across the London spring and autumn changes reads as before', () => {
    const spring = DateTime.fromISO('2026-03-29T00:59:59.999Z').setZone('Europe/London');
    expect(spring.toISO()).toBe('2026-03-29T00:59:59.999+00:00');
    expect(spring.plus({ milliseconds: 1 }).toISO()).toBe('2026-03-29T02:00:00.000+01:00');
    const autumn = DateTime.fromISO('2026-10-25T00:59:00Z').setZone('Europe/London');
    expect(autumn.toISO()).toBe('2026-10-25T01:59:00.000+01:00');
    expect(autumn.plus({ minutes: 1 }).toISO()).toBe('2026-10-25T01:00:00.000+00:00');
    // A wall time in the gap moves forward, as luxon does without the memo.
    const gap = DateTime.fromObject(
      { year: 2026, month: 3, day: 29, hour: 1, minute: 30 },
      { zone: 'Europe/London' },
    );
    expect(gap.toISO()).toBe('2026-03-29T02:30:00.000+01:00');
  });

  it('instants before 1990 are not memoised: a change at an odd second (Monrovia, 1972) is exact', () => {
    const zone = IANAZone.create('Africa/Monrovia');
    const change = Date.UTC(1972, 0, 7, 0, 44, 30);
    for (const ts of [change - 60_000, change - 1, change, change + 29_999]) {
      expect(zone.offset(ts)).toBe(luxonOffset(zone, ts));
    }
    expect(zone.offset(change - 1)).not.toBe(zone.offset(change));
  });

  it('installing twice keeps one memo', () => {
    const before = IANAZone.prototype.offset;
    memoizeZoneOffsets();
    expect(IANAZone.prototype.offset).toBe(before);
  });
});
