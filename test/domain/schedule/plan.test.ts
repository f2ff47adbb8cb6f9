import { describe, expect, it } from 'vitest';
import { type BookingPlanInput, planBookingItems } from '../../../src/domain/schedule/plan.js';
import { DEFAULT_PLAN_POLICY, planPolicySchema } from '../../../src/domain/schedule/plan-policy.js';

const LONDON = 'Europe/London';
const EARLY = '2026-01-01T00:00:00Z';

function booking(
  startsAt: string,
  endsAt: string,
  extra: { now?: string; zone?: string; sameDay?: boolean; lead?: 'sms' | 'slack' } = {},
): BookingPlanInput {
  return {
    session: { startsAt, endsAt },
    activity: {
      zone: LONDON,
      sameDayReminder: extra.sameDay ?? false,
      leadChannel: extra.lead ?? 'sms',
    },
    participant: { zone: extra.zone ?? LONDON },
    now: extra.now ?? EARLY,
  };
}

describe('planBookingItems: an ordinary booking', () => {
  it('plans all four items in time order', () => {
    // Wednesday 10 June 2026, 14:00-15:30 BST
    const plan = planBookingItems(
      booking('2026-06-10T13:00:00Z', '2026-06-10T14:30:00Z', { sameDay: true }),
    );
    expect(plan).toEqual({
      items: [
        { kind: 'reminder_day_before', dueAt: '2026-06-09T09:00:00Z' }, // 10:00 BST
        { kind: 'lead_summary', dueAt: '2026-06-09T15:00:00Z' }, // 16:00 BST
        { kind: 'reminder_same_day', dueAt: '2026-06-10T08:00:00Z' }, // 09:00 BST
        { kind: 'attendance_nudge', dueAt: '2026-06-10T15:00:00Z' }, // 16:00 BST
      ],
      skipped: [],
    });
  });

  it('omits the same-day reminder when the activity does not want one', () => {
    const plan = planBookingItems(booking('2026-06-10T13:00:00Z', '2026-06-10T14:30:00Z'));
    expect(plan.items.map((i) => i.kind)).not.toContain('reminder_same_day');
    expect(plan.skipped).toEqual([]);
  });

  it('puts the same-day reminder 2 h before a morning session', () => {
    const plan = planBookingItems(
      booking('2026-06-10T09:30:00Z', '2026-06-10T11:00:00Z', { sameDay: true }), // 10:30 BST
    );
    const sameDay = plan.items.find((i) => i.kind === 'reminder_same_day');
    expect(sameDay?.dueAt).toBe('2026-06-10T08:00:00Z'); // 08:30 is quiet -> 09:00 BST
    const at1100 = planBookingItems(
      booking('2026-06-10T10:00:00Z', '2026-06-10T11:00:00Z', { sameDay: true }), // 11:00 BST
    );
    expect(at1100.items.find((i) => i.kind === 'reminder_same_day')?.dueAt).toBe(
      '2026-06-10T08:00:00Z',
    );
    const winterNoon = planBookingItems(
      booking('2026-01-14T10:45:00Z', '2026-01-14T12:00:00Z', { sameDay: true }), // 10:45 GMT
    );
    expect(winterNoon.items.find((i) => i.kind === 'reminder_same_day')?.dueAt).toBe(
      '2026-01-14T09:00:00Z', // 08:45 is quiet -> 09:00, still 1 h 45 min before
    );
  });
});

describe('planBookingItems: edge cases from the issue', () => {
  it('a session at 08:30 gets the 10:00 day-before reminder; no same-day one fits', () => {
    const plan = planBookingItems(
      booking('2026-06-10T07:30:00Z', '2026-06-10T09:00:00Z', { sameDay: true }), // 08:30 BST
    );
    expect(plan.items.find((i) => i.kind === 'reminder_day_before')?.dueAt).toBe(
      '2026-06-09T09:00:00Z',
    );
    expect(plan.skipped).toEqual([
      {
        kind: 'reminder_same_day',
        reason: 'too_close_to_session',
        note: 'earliest allowed time 09:00 local is under 60 min before the start',
      },
    ]);
  });

  describe('a session at 09:30 on the Tuesday after Easter Monday 2026', () => {
    const start = '2026-04-07T08:30:00Z'; // 09:30 BST
    const end = '2026-04-07T10:00:00Z';
    const dayBefore = (p: ReturnType<typeof planBookingItems>) =>
      p.items.find((i) => i.kind === 'reminder_day_before');

    it('by default is reminded at 10:00 on the bank holiday', () => {
      const plan = planBookingItems({
        ...booking(start, end),
        participant: { zone: LONDON, region: 'england-and-wales' },
      });
      expect(dayBefore(plan)?.dueAt).toBe('2026-04-06T09:00:00Z');
    });

    it("with holidays 'quiet' is reminded at 19:59 on Easter Sunday instead", () => {
      const plan = planBookingItems(
        { ...booking(start, end), participant: { zone: LONDON, region: 'england-and-wales' } },
        { holidays: 'quiet' },
      );
      expect(dayBefore(plan)).toEqual({
        kind: 'reminder_day_before',
        dueAt: '2026-04-05T18:59:00Z',
        note: 'moved earlier out of quiet hours to 19:59 local',
      });
    });

    it("in Scotland Easter Monday is not a holiday, even with 'quiet'", () => {
      const plan = planBookingItems(
        { ...booking(start, end), participant: { zone: LONDON, region: 'scotland' } },
        { holidays: 'quiet' },
      );
      expect(dayBefore(plan)?.dueAt).toBe('2026-04-06T09:00:00Z');
    });

    it('honours a configured removal', () => {
      const plan = planBookingItems(
        { ...booking(start, end), participant: { zone: LONDON, region: 'england-and-wales' } },
        {
          holidays: 'quiet',
          bankHolidayOverrides: { 'england-and-wales': { add: [], remove: ['2026-04-06'] } },
        },
      );
      expect(dayBefore(plan)?.dueAt).toBe('2026-04-06T09:00:00Z');
    });
  });

  it('a session too soon for any reminder: everything for the participant is skipped', () => {
    // Booked at 21:00 BST for 08:30 BST the next morning.
    const plan = planBookingItems(
      booking('2026-06-10T07:30:00Z', '2026-06-10T09:00:00Z', {
        now: '2026-06-09T20:00:00Z',
        sameDay: true,
      }),
    );
    expect(plan.items).toEqual([{ kind: 'attendance_nudge', dueAt: '2026-06-10T09:30:00Z' }]);
    expect(plan.skipped.map((s) => [s.kind, s.reason])).toEqual([
      ['reminder_day_before', 'time_passed'],
      ['reminder_same_day', 'too_close_to_session'],
      ['lead_summary', 'time_passed'],
    ]);
  });

  it('a session already started is skipped as such', () => {
    const plan = planBookingItems(
      booking('2026-06-10T13:00:00Z', '2026-06-10T14:30:00Z', {
        now: '2026-06-10T13:10:00Z',
        sameDay: true,
      }),
    );
    expect(plan.skipped.map((s) => s.reason)).toEqual([
      'session_started',
      'session_started',
      'session_started',
    ]);
    expect(plan.items.map((i) => i.kind)).toEqual(['attendance_nudge']);
  });

  it('drops a reminder when quiet hours leave no time after now', () => {
    // Quiet 08:00-12:00 for this participant: 10:00 moves back to 07:59, already past.
    const plan = planBookingItems({
      ...booking('2026-06-10T13:00:00Z', '2026-06-10T14:30:00Z', { now: '2026-06-09T08:00:00Z' }),
      participant: { zone: LONDON, quietHours: { start: '08:00', end: '12:00' } },
    });
    expect(plan.skipped).toEqual([
      {
        kind: 'reminder_day_before',
        reason: 'quiet_hours_no_time_left',
        note: 'moved earlier out of quiet hours to 07:59 local',
      },
    ]);
  });

  it('a participant in Europe/Warsaw gets their own local times', () => {
    // 10:00 BST in London = 11:00 CEST in Warsaw.
    const plan = planBookingItems(
      booking('2026-06-10T09:00:00Z', '2026-06-10T10:00:00Z', {
        zone: 'Europe/Warsaw',
        sameDay: true,
      }),
    );
    expect(plan.items).toEqual([
      { kind: 'reminder_day_before', dueAt: '2026-06-09T08:00:00Z' }, // 10:00 CEST
      { kind: 'lead_summary', dueAt: '2026-06-09T15:00:00Z' }, // 16:00 BST, activity zone
      { kind: 'reminder_same_day', dueAt: '2026-06-10T07:00:00Z' }, // 09:00 CEST, 08:00 BST
      { kind: 'attendance_nudge', dueAt: '2026-06-10T10:30:00Z' },
    ]);
  });

  it("'the day before' is the participant's calendar day, not 24 h earlier", () => {
    // 23:30 UTC on 10 June is 00:30 on 11 June in London, 19:30 on 10 June in New York.
    const start = '2026-06-10T23:30:00Z';
    const end = '2026-06-11T00:30:00Z';
    const london = planBookingItems(booking(start, end));
    const newYork = planBookingItems(booking(start, end, { zone: 'America/New_York' }));
    const due = (p: ReturnType<typeof planBookingItems>) =>
      p.items.find((i) => i.kind === 'reminder_day_before')?.dueAt;
    expect(due(london)).toBe('2026-06-10T09:00:00Z'); // 10:00 BST on 10 June
    expect(due(newYork)).toBe('2026-06-09T14:00:00Z'); // 10:00 EDT on 9 June
  });
});

describe('planBookingItems: leads', () => {
  it('defers an SMS lead nudge out of 21:00-08:00; a Slack lead is not held', () => {
    const start = '2026-06-10T18:30:00Z'; // 19:30 BST
    const end = '2026-06-10T20:00:00Z'; // 21:00 BST, nudge 21:30
    const sms = planBookingItems(booking(start, end, { lead: 'sms' }));
    expect(sms.items.find((i) => i.kind === 'attendance_nudge')).toEqual({
      kind: 'attendance_nudge',
      dueAt: '2026-06-11T07:00:00Z',
      note: 'deferred out of SMS lead quiet hours to 08:00 local',
    });
    const slack = planBookingItems(booking(start, end, { lead: 'slack' }));
    expect(slack.items.find((i) => i.kind === 'attendance_nudge')?.dueAt).toBe(
      '2026-06-10T20:30:00Z',
    );
  });

  it('moves an SMS lead summary earlier out of lead quiet hours', () => {
    const plan = planBookingItems(booking('2026-06-10T13:00:00Z', '2026-06-10T14:00:00Z'), {
      leadSummaryAt: '22:00',
    });
    expect(plan.items.find((i) => i.kind === 'lead_summary')?.dueAt).toBe('2026-06-09T19:59:00Z');
  });

  it('ignores participant quiet hours for leads', () => {
    const plan = planBookingItems(booking('2026-06-10T13:00:00Z', '2026-06-10T14:00:00Z'), {
      leadSummaryAt: '20:30',
    });
    expect(plan.items.find((i) => i.kind === 'lead_summary')?.dueAt).toBe('2026-06-09T19:30:00Z');
  });
});

describe('policy and input validation', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_PLAN_POLICY).toMatchObject({
      dayBeforeAt: '10:00',
      sameDayMorningAt: '09:00',
      sameDayLateStartFrom: '11:00',
      sameDayLeadMinutes: 120,
      sameDayMinLeadMinutes: 60,
      leadSummaryAt: '16:00',
      attendanceNudgeAfterMinutes: 30,
      leadSmsQuietHours: { start: '21:00', end: '08:00' },
      holidays: 'normal',
    });
    expect(planPolicySchema.safeParse({ dayBeforeAt: '10am' }).success).toBe(false);
  });

  it('takes a different day-before time from policy', () => {
    const plan = planBookingItems(booking('2026-06-10T13:00:00Z', '2026-06-10T14:00:00Z'), {
      dayBeforeAt: '18:00',
    });
    expect(plan.items.find((i) => i.kind === 'reminder_day_before')?.dueAt).toBe(
      '2026-06-09T17:00:00Z',
    );
  });

  it('refuses a session that ends before it starts, or instants without an offset', () => {
    expect(() => planBookingItems(booking('2026-06-10T13:00:00Z', '2026-06-10T13:00:00Z'))).toThrow(
      RangeError,
    );
    expect(() => planBookingItems(booking('2026-06-10T13:00:00', '2026-06-10T14:00:00Z'))).toThrow(
      /no offset/,
    );
  });
});
