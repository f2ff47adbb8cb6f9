import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setConsent } from '../../../src/store/repos/participants.js';
import { uniquePhone } from '../../store/drivers.js';
import { waitFor } from '../../support/pipeline.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';

// REMINDER_DAY_BEFORE_AT and LEAD_SUMMARY_AT as the running service reads them: a booking
// through the admin API plans at those times, and a replan made elsewhere (the runner, for a
// participant's "2 can't make it") keeps them instead of going back to 10:00 and 16:00.

const TOKEN = 'reminder-time-admin-token-0123';
const ZONE = 'Europe/London';
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
let s: RunningService;

beforeAll(async () => {
  s = await startService({
    ADMIN_TOKEN: TOKEN,
    REMINDER_DAY_BEFORE_AT: '18:30',
    LEAD_SUMMARY_AT: '17:15',
  });
}, 60_000);
afterAll(async () => s?.stop());

const post = async (url: string, payload: object) => {
  const res = await s.running.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${TOKEN}` },
    payload,
  });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json();
};

interface Item {
  id: string;
  version: number;
  due_at: Date;
  state: string;
}

const itemOf = async (kind: string, column: 'booking_id' | 'session_id', id: string) => {
  const { rows } = await s.service.db.query<Item>(
    `SELECT id, version, due_at, state FROM scheduled_items WHERE kind = $1 AND ${column} = $2`,
    [kind, id],
  );
  expect(rows).toHaveLength(1);
  return rows[0]!;
};

/** A wall time on the day before `day`, in the zone, as an instant. */
const dayBefore = (day: DateTime, time: string) => {
  const [hour, minute] = time.split(':').map(Number);
  return day.minus({ days: 1 }).set({ hour, minute }).toJSDate();
};

async function consenting(): Promise<{ id: string; phone: string }> {
  const phone = uniquePhone();
  const { participant } = await post('/admin/participants', {
    phone,
    first_name: 'Joan',
    welcome: false,
    // No quiet hours: the reminder fired by hand below is not deferred whatever the hour.
    quiet_start: '00:00',
    quiet_end: '00:00',
  });
  await setConsent(s.service.db, participant.id, 'given', { actor: 'admin:test' });
  return { id: participant.id, phone };
}

describe('REMINDER_DAY_BEFORE_AT and LEAD_SUMMARY_AT in the running service', () => {
  it('admin booking plans at them, and a runner replan ("2 can\'t make it") keeps them', async () => {
    // One session three days ahead at 12:00 local: every reminder is still in the future.
    const day = DateTime.now().setZone(ZONE).plus({ days: 3 }).startOf('day');
    const { sessions } = await post('/admin/activities', {
      key: `reminder-time-${Date.now()}`,
      name: 'Art Club',
      location: 'the Library',
      capacity: 5,
      lead_slack_user: 'U0LEAD1',
      series: {
        start_date: day.toISODate(),
        end_date: day.toISODate(),
        weekly: { days: [WEEKDAYS[day.weekday - 1]], time: '12:00', duration_minutes: 60 },
      },
    });
    expect(sessions).toHaveLength(1);
    const sessionId = sessions[0].id as string;
    const ann = await consenting();
    const bob = await consenting();
    const book = async (participantId: string) =>
      (await post('/admin/bookings', { participant_id: participantId, session_id: sessionId }))
        .bookings[0].id as string;
    const annBooking = await book(ann.id);
    const bobBooking = await book(bob.id);

    const dueAt = dayBefore(day, '18:30');
    expect((await itemOf('reminder_day_before', 'booking_id', annBooking)).due_at).toEqual(dueAt);
    expect((await itemOf('reminder_day_before', 'booking_id', bobBooking)).due_at).toEqual(dueAt);
    const summaryAt = dayBefore(day, '17:15');
    expect((await itemOf('lead_summary', 'session_id', sessionId)).due_at).toEqual(summaryAt);

    // Ann's reminder fires (early, by hand) and she answers "2": the runner cancels her
    // booking and replans the session, with the service's policy.
    const reminder = await itemOf('reminder_day_before', 'booking_id', annBooking);
    expect(await s.service.runner.handleItem(reminder.id, reminder.version)).toBe('fired');
    const sms = await s.running.app.inject({
      method: 'POST',
      url: '/sandbox/sms',
      payload: { from: ann.phone, body: '2' },
    });
    expect(sms.json().webhookStatus).toBe(200);
    const status = async () =>
      (
        await s.service.db.query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [
          annBooking,
        ])
      ).rows[0]?.status;
    await waitFor(async () => (await status()) === 'cancelled');

    // Bob's reminder and the lead's summary stay at the configured times (not 10:00, 16:00).
    const bobs = await itemOf('reminder_day_before', 'booking_id', bobBooking);
    expect(bobs).toMatchObject({ due_at: dueAt, state: expect.stringMatching(/pending|enqueued/) });
    expect((await itemOf('lead_summary', 'session_id', sessionId)).due_at).toEqual(summaryAt);
  }, 60_000);
});
