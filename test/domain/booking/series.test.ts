import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { BookingError } from '../../../src/domain/booking/errors.js';
import { expandSeries, MAX_OCCURRENCES } from '../../../src/domain/booking/series.js';
import { seriesSchema } from '../../../src/domain/booking/series-schema.js';

const LONDON = 'Europe/London';
const local = (d: Date, zone = LONDON) =>
  DateTime.fromJSDate(d, { zone }).toFormat('ccc yyyy-MM-dd HH:mm');
const utc = (d: Date) => d.toISOString().replace('.000Z', 'Z');

describe('expandSeries: weekly', () => {
  // 2026: clocks go forward on Sunday 29 March and back on Sunday 25 October.
  it('keeps Monday 10:00 at 10:00 local across the spring change', () => {
    const sessions = expandSeries({
      start_date: '2026-03-16',
      end_date: '2026-04-06',
      weekly: { days: ['mon'], time: '10:00', duration_minutes: 90 },
      zone: LONDON,
    });
    expect(sessions.map((s) => local(s.startsAt))).toEqual([
      'Mon 2026-03-16 10:00',
      'Mon 2026-03-23 10:00',
      'Mon 2026-03-30 10:00',
      'Mon 2026-04-06 10:00',
    ]);
    expect(sessions.map((s) => utc(s.startsAt))).toEqual([
      '2026-03-16T10:00:00Z',
      '2026-03-23T10:00:00Z',
      '2026-03-30T09:00:00Z',
      '2026-04-06T09:00:00Z',
    ]);
    expect(sessions.map((s) => (s.endsAt.getTime() - s.startsAt.getTime()) / 60_000)).toEqual([
      90, 90, 90, 90,
    ]);
  });

  it('keeps Monday 10:00 at 10:00 local across the autumn change', () => {
    const sessions = expandSeries({
      start_date: '2026-10-19',
      end_date: '2026-11-02',
      weekly: { days: ['mon'], time: '10:00', duration_minutes: 60 },
      zone: LONDON,
    });
    expect(sessions.map((s) => local(s.startsAt))).toEqual([
      'Mon 2026-10-19 10:00',
      'Mon 2026-10-26 10:00',
      'Mon 2026-11-02 10:00',
    ]);
    expect(sessions.map((s) => utc(s.startsAt))).toEqual([
      '2026-10-19T09:00:00Z',
      '2026-10-26T10:00:00Z',
      '2026-11-02T10:00:00Z',
    ]);
  });

  it('takes several weekdays, both end dates inclusive, in the given zone', () => {
    const sessions = expandSeries({
      start_date: '2026-06-03',
      end_date: '2026-06-10',
      weekly: { days: ['fri', 'wed'], time: '18:30', duration_minutes: 60 },
      zone: 'America/New_York',
    });
    expect(sessions.map((s) => local(s.startsAt, 'America/New_York'))).toEqual([
      'Wed 2026-06-03 18:30',
      'Fri 2026-06-05 18:30',
      'Wed 2026-06-10 18:30',
    ]);
  });

  it('moves a time in the spring-forward gap forward by the gap', () => {
    const [s] = expandSeries({
      start_date: '2026-03-29',
      end_date: '2026-03-29',
      weekly: { days: ['sun'], time: '01:30', duration_minutes: 60 },
      zone: LONDON,
    });
    expect(utc(s!.startsAt)).toBe('2026-03-29T01:30:00Z');
    expect(local(s!.startsAt)).toBe('Sun 2026-03-29 02:30');
  });

  it(`refuses more than ${MAX_OCCURRENCES} sessions rather than cutting them`, () => {
    expect(() =>
      expandSeries({
        start_date: '2026-01-01',
        end_date: '2027-12-31',
        weekly: { days: ['mon', 'tue', 'wed'], time: '10:00', duration_minutes: 60 },
        zone: LONDON,
      }),
    ).toThrow(BookingError);
  });
});

describe('expandSeries: rrule', () => {
  it('stops at UNTIL and keeps local time across the change', () => {
    const sessions = expandSeries({
      start_date: '2026-03-17',
      rrule: 'FREQ=WEEKLY;BYDAY=TU;UNTIL=20260407',
      time: '14:00',
      duration_minutes: 120,
      zone: LONDON,
    });
    expect(sessions.map((s) => local(s.startsAt))).toEqual([
      'Tue 2026-03-17 14:00',
      'Tue 2026-03-24 14:00',
      'Tue 2026-03-31 14:00',
      'Tue 2026-04-07 14:00',
    ]);
    expect(utc(sessions[2]!.startsAt)).toBe('2026-03-31T13:00:00Z');
  });

  it('is bounded by end_date and by COUNT, and accepts an RRULE: prefix', () => {
    const byEnd = expandSeries({
      start_date: '2026-05-01',
      end_date: '2026-07-31',
      rrule: 'RRULE:FREQ=MONTHLY;BYDAY=1FR',
      time: '10:00',
      duration_minutes: 60,
      zone: LONDON,
    });
    expect(byEnd.map((s) => s.localDate)).toEqual(['2026-05-01', '2026-06-05', '2026-07-03']);
    const byCount = expandSeries({
      start_date: '2026-05-01',
      rrule: 'FREQ=WEEKLY;INTERVAL=2;COUNT=3',
      time: '10:00',
      duration_minutes: 60,
      zone: LONDON,
    });
    expect(byCount.map((s) => s.localDate)).toEqual(['2026-05-01', '2026-05-15', '2026-05-29']);
  });
});

describe('seriesSchema', () => {
  const paths = (input: unknown) => {
    const r = seriesSchema.safeParse(input);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('accepts a weekly and an rrule series', () => {
    expect(
      paths({
        start_date: '2026-03-02',
        end_date: '2026-04-20',
        weekly: { days: ['mon'], time: '10:00', duration_minutes: 90 },
      }),
    ).toEqual([]);
    expect(
      paths({
        start_date: '2026-03-02',
        rrule: 'FREQ=DAILY;COUNT=3',
        time: '09:00',
        duration_minutes: 30,
      }),
    ).toEqual([]);
  });

  it('reports each problem at its field', () => {
    expect(
      paths({
        start_date: '2026-03-02',
        end_date: '2026-04-20',
        weekly: { days: ['monday'], time: '25:00', duration_minutes: 90 },
      }).map((p) => p.split(':')[0]),
    ).toEqual(['weekly.days.0', 'weekly.time']);
    expect(
      paths({
        start_date: '2026-03-02',
        rrule: 'FREQ=WEEKLY',
        time: '10:00',
        duration_minutes: 60,
      }),
    ).toEqual(['end_date: give end_date, or UNTIL or COUNT in the rule']);
    expect(
      paths({
        start_date: '2026-03-02',
        rrule: 'FREQ=HOURLY;COUNT=2',
        time: '10:00',
        duration_minutes: 60,
      })[0],
    ).toMatch(/^rrule: FREQ/);
    expect(
      paths({
        start_date: '2026-03-02',
        rrule: 'NONSENSE',
        time: '10:00',
        duration_minutes: 60,
      })[0],
    ).toMatch(/^rrule: /);
    expect(
      paths({
        start_date: '2026-05-02',
        end_date: '2026-05-01',
        weekly: { days: ['mon'], time: '10:00', duration_minutes: 60 },
      }),
    ).toEqual(['end_date: end_date is before start_date']);
    expect(
      paths({
        start_date: '2026-05-05',
        end_date: '2026-05-06',
        weekly: { days: ['mon'], time: '10:00', duration_minutes: 60 },
      }),
    ).toEqual(['weekly: the series has no sessions']);
    expect(
      paths({
        start_date: '2026-02-30',
        end_date: '2026-05-01',
        weekly: { days: ['mon'], time: '10:00', duration_minutes: 60 },
      })[0],
    ).toMatch(/^start_date: /);
  });
});
