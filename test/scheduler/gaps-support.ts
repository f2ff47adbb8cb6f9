/**
 * Helpers for test/scheduler/checklist-gaps.test.ts: the composed sandbox-mode service (real
 * queues and workers, the in-process local Twilio, the admin API and the movable sandbox
 * clock), driven as an operator would drive it.
 */
import { DateTime } from 'luxon';
import { expect } from 'vitest';
import { queueFor } from '../../src/scheduler/queues.js';
import { reconcile } from '../../src/scheduler/reconciler.js';
import { setConsent } from '../../src/store/repos/participants.js';
import { uniquePhone } from '../store/drivers.js';
import type { RunningService } from '../support/sandbox-server.js';

export const ZONE = 'Europe/London';
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

export interface DayBefore {
  id: string;
  version: number;
  due_at: Date;
  state: string;
  job_id: string;
}

export function driver(s: () => RunningService, token: string) {
  const app = () => s().running.app;
  const db = () => s().service.db;

  async function admin(url: string, payload: object) {
    const res = await app().inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${token}` },
      payload,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  }

  /**
   * Moves the sandbox clock to a local wall time: what is due runs now (fireDue: a delayed
   * job promoted, a missing one queued with no delay), as the page's clock does.
   */
  async function clockTo(at: DateTime): Promise<void> {
    const res = await app().inject({
      method: 'POST',
      url: '/sandbox/clock',
      payload: { to: at.setZone(ZONE).toFormat("yyyy-LL-dd'T'HH:mm") },
    });
    expect(res.statusCode, res.body).toBe(200);
  }

  /**
   * The reconciler's pass on the sandbox clock: timers due within the hour get their job. It
   * logs into the service's checked log (checklist 90), as the service's own pass does.
   */
  async function reconcileNow(): Promise<void> {
    const { service, sandbox, logs } = s();
    await reconcile(
      service.db,
      service.redis,
      service.queues,
      service.config.queuePrefix,
      sandbox!.clock.now(),
      logs.logger,
    );
  }

  /** The day-before reminders the local Twilio has carried to `phone`, as bodies. */
  async function remindersAtTwilio(phone: string): Promise<string[]> {
    const res = await app().inject({
      method: 'GET',
      url: `/sandbox/sms?phone=${encodeURIComponent(phone)}`,
    });
    const messages: { direction: string; body: string }[] = res.json().messages;
    return messages
      .filter((m) => m.direction === 'out' && m.body.startsWith('Reminder:'))
      .map((m) => m.body);
  }

  /** Rows the runner wrote as reminder texts for the participant (sent or not). */
  async function reminderRows(participantId: string): Promise<number> {
    const { rows } = await db().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE participant_id = $1 AND kind = 'reminder'`,
      [participantId],
    );
    return rows[0]!.n;
  }

  async function dayBefore(bookingId: string): Promise<DayBefore> {
    const { rows } = await db().query<DayBefore>(
      `SELECT id, version, due_at, state, job_id FROM scheduled_items
       WHERE kind = 'reminder_day_before' AND booking_id = $1`,
      [bookingId],
    );
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  const reminderJob = (jobId: string) =>
    s().service.queues[queueFor('reminder_day_before')].getJob(jobId);

  /**
   * An activity with one session on `day` at 12:00 local, and a consenting participant with
   * no quiet hours booked on it, all through the admin API.
   */
  async function bookedSession(key: string, day: DateTime) {
    const { sessions } = await admin('/admin/activities', {
      key,
      name: 'Walking football',
      location: 'Moss Side Leisure Centre',
      capacity: 5,
      series: {
        start_date: day.toISODate(),
        end_date: day.toISODate(),
        weekly: { days: [WEEKDAYS[day.weekday - 1]], time: '12:00', duration_minutes: 60 },
      },
    });
    expect(sessions).toHaveLength(1);
    const sessionId = sessions[0].id as string;
    const phone = uniquePhone();
    const { participant } = await admin('/admin/participants', {
      phone,
      first_name: 'Joan',
      welcome: false,
      quiet_start: '00:00',
      quiet_end: '00:00',
    });
    await setConsent(db(), participant.id, 'given', { actor: 'admin:test' });
    const { bookings } = await admin('/admin/bookings', {
      participant_id: participant.id,
      session_id: sessionId,
    });
    return {
      sessionId,
      participantId: participant.id as string,
      bookingId: bookings[0].id as string,
      phone,
    };
  }

  return {
    admin,
    clockTo,
    reconcileNow,
    remindersAtTwilio,
    reminderRows,
    dayBefore,
    reminderJob,
    bookedSession,
  };
}

/** A local day `days` from today (real time), at midnight in the zone. */
export const dayFromToday = (days: number) =>
  DateTime.now().setZone(ZONE).plus({ days }).startOf('day');

/** `day` at a local wall time. */
export const at = (day: DateTime, hour: number, minute = 0) =>
  day.set({ hour, minute, second: 0, millisecond: 0 });

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
