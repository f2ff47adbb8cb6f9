import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { DAY_ZONE, dayClock } from '../../bench/day-clock.js';
import { planBookingItems } from '../../src/domain/schedule/plan.js';

// When the mixed day's reminders come due (bench/day-clock.ts): T and the sessions' times.

const london = (iso: string) => DateTime.fromISO(iso, { zone: DAY_ZONE }).toJSDate();
const local = (d: Date) => DateTime.fromJSDate(d, { zone: DAY_ZONE }).toFormat('yyyy-MM-dd HH:mm');

/** What the booking domain plans for a session of the clock, with its day-before time. */
function plannedDayBefore(now: Date, clock: ReturnType<typeof dayClock>, k: number) {
  const s = clock.sessions[k]!;
  return planBookingItems(
    {
      session: { startsAt: s.startsAt.toISOString(), endsAt: s.endsAt.toISOString() },
      activity: { zone: DAY_ZONE, sameDayReminder: false, leadChannel: 'sms' },
      participant: { zone: DAY_ZONE, quietHours: { start: '00:00', end: '00:00' } },
      now: now.toISOString(),
    },
    { dayBeforeAt: clock.dayBeforeAt },
  );
}

describe("the mixed day's reminder time", () => {
  it('leads by at least 90 s, rounded up to a whole local minute', () => {
    const now = london('2026-03-10T14:20:15.250');
    const c = dayClock(now, 1_000);
    expect(local(c.due)).toBe('2026-03-10 14:22');
    expect(c.due.getTime() % 60_000).toBe(0);
    expect(c.dayBeforeAt).toBe('14:22');
    expect(c.dueDate).toBe('2026-03-10');
    // A whole minute plus the lead is already whole: not pushed a minute further.
    expect(local(dayClock(london('2026-03-10T14:20:30'), 1_000).due)).toBe('2026-03-10 14:22');
  });

  it('leads by 5 ms per participant for large days', () => {
    const now = london('2026-03-10T14:20:15');
    // 100,000 x 5 ms = 500 s: 14:28:35, so 14:29.
    expect(local(dayClock(now, 100_000).due)).toBe('2026-03-10 14:29');
    // 10,000 x 5 ms = 50 s: the 90 s floor wins.
    expect(local(dayClock(now, 10_000).due)).toBe('2026-03-10 14:22');
  });

  it("puts the four sessions on T's next local day, 10:00 to 16:00, 90 min each", () => {
    const c = dayClock(london('2026-03-10T14:20:15'), 1_000);
    expect(c.sessions.map((s) => local(s.startsAt))).toEqual([
      '2026-03-11 10:00',
      '2026-03-11 12:00',
      '2026-03-11 14:00',
      '2026-03-11 16:00',
    ]);
    for (const s of c.sessions) expect(s.endsAt.getTime() - s.startsAt.getTime()).toBe(90 * 60_000);
  });

  it('is in London time in summer too (BST)', () => {
    const now = new Date('2026-07-01T13:00:00Z'); // 14:00 BST
    const c = dayClock(now, 1_000);
    expect(c.dayBeforeAt).toBe('14:02');
    expect(c.due.toISOString()).toBe('2026-07-01T13:02:00.000Z');
    expect(c.sessions[0]!.startsAt.toISOString()).toBe('2026-07-02T09:00:00.000Z');
  });

  it('makes the domain plan every day-before reminder at T, also in a replan after T', () => {
    const now = london('2026-03-10T14:20:15');
    const c = dayClock(now, 1_000);
    for (let k = 0; k < 4; k++) {
      expect(plannedDayBefore(now, c, k).items).toContainEqual({
        kind: 'reminder_day_before',
        dueAt: c.due.toISOString().replace('.000', ''),
      });
    }
    // A replan before T agrees; one after T sees the time passed (the service's rule).
    const before = new Date(c.due.getTime() - 1);
    expect(plannedDayBefore(before, c, 0).items.map((i) => i.kind)).toContain(
      'reminder_day_before',
    );
    const after = new Date(c.due.getTime() + 1);
    expect(plannedDayBefore(after, c, 0).skipped).toContainEqual(
      expect.objectContaining({ kind: 'reminder_day_before', reason: 'time_passed' }),
    );
  });

  it('takes T on the next day just before midnight, with the sessions the day after it', () => {
    const now = london('2026-03-10T23:59:00');
    const c = dayClock(now, 1_000);
    expect(local(c.due)).toBe('2026-03-11 00:01');
    expect(c.dueDate).toBe('2026-03-11');
    expect(c.dayBeforeAt).toBe('00:01');
    expect(local(c.sessions[0]!.startsAt)).toBe('2026-03-12 10:00');
    expect(plannedDayBefore(now, c, 3).items).toContainEqual({
      kind: 'reminder_day_before',
      dueAt: c.due.toISOString().replace('.000', ''),
    });
    // Exactly at midnight too: 00:00 is a valid REMINDER_DAY_BEFORE_AT.
    const m = dayClock(london('2026-03-10T23:58:30'), 1_000);
    expect(m.dayBeforeAt).toBe('00:00');
    expect(m.dueDate).toBe('2026-03-11');
  });

  it('refuses a T in the repeated hour when the clocks go back', () => {
    // 25 Oct 2026: 01:00-02:00 happens twice in London, first in BST (00:xx UTC), then in GMT.
    expect(() => dayClock(new Date('2026-10-25T01:10:00Z'), 1_000)).toThrow(
      /repeated local minute/,
    );
    // The first pass (BST) is fine.
    expect(dayClock(new Date('2026-10-25T00:10:00Z'), 1_000).dayBeforeAt).toBe('01:12');
  });
});
