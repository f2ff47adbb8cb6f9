// Reliability item 78: quiet hours and reminders across the 2026 and 2027 clock changes.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localWallTime } from '../../../src/domain/schedule/local-time.js';
import {
  type BookingPlanInput,
  type PlannedItem,
  planBookingItems,
} from '../../../src/domain/schedule/plan.js';
import { isQuiet, nextAllowedAfter } from '../../../src/domain/schedule/quiet-hours.js';

const LONDON = 'Europe/London';

function input(startsAt: string, endsAt: string, now: string, zone = LONDON): BookingPlanInput {
  return {
    session: { startsAt, endsAt },
    activity: { zone: LONDON, sameDayReminder: true, leadChannel: 'sms' },
    participant: { zone },
    now,
  };
}

const find = (items: PlannedItem[], kind: PlannedItem['kind']): PlannedItem | undefined =>
  items.find((i) => i.kind === kind);

describe('(a) a day-before reminder is at 10:00 local on the Sunday of each change', () => {
  it.each([
    // Monday session 10:00 local, reminder Sunday 10:00 local
    ['2026-03-30T09:00:00Z', '2026-03-29T09:00:00Z'], // BST both days
    ['2026-10-26T10:00:00Z', '2026-10-25T10:00:00Z'], // GMT both days
    ['2027-03-29T09:00:00Z', '2027-03-28T09:00:00Z'],
    ['2027-11-01T10:00:00Z', '2027-10-31T10:00:00Z'],
  ])('session %s -> reminder %s', (startsAt, dueAt) => {
    const endsAt = DateTime.fromISO(startsAt).plus({ hours: 1 }).toISO() as string;
    const plan = planBookingItems(input(startsAt, endsAt, '2026-01-01T00:00:00Z'));
    const reminder = find(plan.items, 'reminder_day_before');
    expect(reminder).toEqual({ kind: 'reminder_day_before', dueAt });
    expect(localWallTime(dueAt, LONDON)).toBe('10:00');
    expect(localWallTime(startsAt, LONDON)).toBe('10:00');
    // the lead summary is at 16:00 local on the Sunday too
    expect(localWallTime(find(plan.items, 'lead_summary')?.dueAt ?? '', LONDON)).toBe('16:00');
  });

  it('is the calendar day before: 24 h, or 23 h / 25 h across a change', () => {
    const spring = planBookingItems(
      input('2026-03-30T09:00:00Z', '2026-03-30T10:00:00Z', '2026-01-01T00:00:00Z'),
    );
    const autumn = planBookingItems(
      input('2026-10-26T10:00:00Z', '2026-10-26T11:00:00Z', '2026-01-01T00:00:00Z'),
    );
    const hours = (p: typeof spring, start: string) =>
      DateTime.fromISO(start).diff(
        DateTime.fromISO(find(p.items, 'reminder_day_before')?.dueAt ?? ''),
        'hours',
      ).hours;
    expect(hours(spring, '2026-03-30T09:00:00Z')).toBe(24);
    expect(hours(autumn, '2026-10-26T10:00:00Z')).toBe(24);
    // The Sunday itself: Saturday 10:00 GMT -> Sunday 10:00 BST is 23 h.
    const sunday = planBookingItems(
      input('2026-03-29T09:00:00Z', '2026-03-29T10:00:00Z', '2026-01-01T00:00:00Z'),
    );
    expect(hours(sunday, '2026-03-29T09:00:00Z')).toBe(23);
    const autumnSunday = planBookingItems(
      input('2026-10-25T10:00:00Z', '2026-10-25T11:00:00Z', '2026-01-01T00:00:00Z'),
    );
    expect(hours(autumnSunday, '2026-10-25T10:00:00Z')).toBe(25);
  });
});

describe('(b) nothing is planned in quiet hours on either side of a change', () => {
  const sundays = ['2026-03-29', '2026-10-25', '2027-03-28', '2027-10-31'];
  for (const sunday of sundays) {
    for (const zone of [LONDON, 'Europe/Warsaw']) {
      it(`sessions every 30 min from Friday to Tuesday around ${sunday} (${zone})`, () => {
        const from = DateTime.fromISO(`${sunday}T00:00`, { zone }).minus({ days: 2 });
        for (let s = from.toUTC(); s < from.plus({ days: 4 }); s = s.plus({ minutes: 30 })) {
          const startsAt = s.toISO() as string;
          const endsAt = s.plus({ minutes: 90 }).toISO() as string;
          const now = s.minus({ days: 7 }).toISO() as string;
          const plan = planBookingItems(input(startsAt, endsAt, now, zone));
          for (const item of plan.items.filter((i) => i.kind.startsWith('reminder_'))) {
            expect(isQuiet(item.dueAt, zone), `${startsAt} ${item.kind} ${item.dueAt}`).toBe(false);
            expect(DateTime.fromISO(item.dueAt) < s).toBe(true);
          }
          expect(plan.items.filter((i) => i.kind === 'reminder_day_before')).toHaveLength(1);
        }
      });
    }
  }
});

describe('(c) a job that runs late into quiet hours is deferred to 09:00 local', () => {
  it.each([
    ['2026-03-28T22:00:00Z', '2026-03-29T08:00:00Z'], // 22:00 GMT -> 09:00 BST
    ['2026-10-24T21:00:00Z', '2026-10-25T09:00:00Z'], // 22:00 BST -> 09:00 GMT
    ['2026-10-25T00:30:00Z', '2026-10-25T09:00:00Z'], // 01:30 BST (first 01:30)
    ['2026-10-25T01:30:00Z', '2026-10-25T09:00:00Z'], // 01:30 GMT (second 01:30)
  ])('due %s -> sent %s', (late, deferred) => {
    const at = nextAllowedAfter(late, LONDON);
    expect(at.toISO({ suppressMilliseconds: true })).toBe(deferred);
    expect(localWallTime(at, LONDON)).toBe('09:00');
  });
});

describe('(d) a reminder time in the missing or repeated hour resolves once, by the rule', () => {
  const noQuiet = { start: '00:00', end: '00:00' };
  const at0130 = (startsAt: string, endsAt: string) =>
    planBookingItems(
      {
        ...input(startsAt, endsAt, '2026-01-01T00:00:00Z'),
        participant: { zone: LONDON, quietHours: noQuiet },
      },
      { dayBeforeAt: '01:30' },
    ).items.filter((i) => i.kind === 'reminder_day_before');

  it('spring: 01:30 does not exist, so the reminder is at 02:30 BST (01:30Z)', () => {
    const items = at0130('2026-03-30T09:00:00Z', '2026-03-30T10:00:00Z');
    expect(items).toHaveLength(1);
    expect(items[0]?.dueAt).toBe('2026-03-29T01:30:00Z');
    expect(items[0]?.note).toMatch(/does not exist/);
  });

  it('autumn: 01:30 happens twice, so the reminder is at the first, 01:30 BST (00:30Z)', () => {
    const items = at0130('2026-10-26T10:00:00Z', '2026-10-26T11:00:00Z');
    expect(items).toHaveLength(1);
    expect(items[0]?.dueAt).toBe('2026-10-25T00:30:00Z');
    expect(items[0]?.note).toMatch(/first occurrence/);
    const in2027 = at0130('2027-11-01T10:00:00Z', '2027-11-01T11:00:00Z');
    expect(in2027.map((i) => i.dueAt)).toEqual(['2027-10-31T00:30:00Z']);
  });

  it('with default quiet hours, 01:30 is quiet and moves to 19:59 the evening before', () => {
    const plan = planBookingItems(
      input('2026-10-26T10:00:00Z', '2026-10-26T11:00:00Z', '2026-01-01T00:00:00Z'),
      { dayBeforeAt: '01:30' },
    );
    const reminder = find(plan.items, 'reminder_day_before');
    expect(reminder?.dueAt).toBe('2026-10-24T18:59:00Z'); // Saturday 19:59 BST
    expect(reminder?.note).toMatch(/first occurrence.*moved earlier out of quiet hours to 19:59/);
  });
});
