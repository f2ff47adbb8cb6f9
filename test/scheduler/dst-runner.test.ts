/**
 * Checklist 78 through the runner and the real queues and workers, on the clock changes of
 * 2026 in Europe/London (last Sunday of March: 29 March, 01:00 GMT -> 02:00 BST; last Sunday
 * of October: 25 October, 02:00 BST -> 01:00 GMT), with a fake clock given to the runner, the
 * sink, the workers and the admin API. Quiet hours 20:00-09:00 local.
 * (a) The day-before reminder planned through the admin API is sent at 10:00 local: promoted
 *     an hour early (10:00 by the other offset) it is held back; at 10:00 local it is sent.
 * (c) A reminder fired late into quiet hours on either side of a change is deferred to 09:00
 *     local (asserted in UTC), not sent; fired again then, it is sent once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEffects } from '../../src/domain/booking/changes.js';
import { registerAdminRoutes } from '../../src/http/admin/index.js';
import { type App, buildServer } from '../../src/http/server.js';
import { noEffects } from '../../src/runner/effects.js';
import { reconcile } from '../../src/scheduler/reconciler.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import type { ScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, useLogWatch, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const TOKEN = 'test-admin-token-0123456789';
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

describe('checklist 78: the runner around the clock changes (Europe/London)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let p: Pipeline;
  let app: App;
  let clock = new Date('2026-03-20T12:00:00Z');
  /** When (by the fake clock) the gateway was handed each SMS, by phone. */
  const sentAt = new Map<string, Date[]>();

  beforeAll(async () => {
    p = await startPipeline(getDb(), undefined, () => clock);
    const send = p.gateway.send.bind(p.gateway);
    p.gateway.send = async (m) => {
      sentAt.set(m.to, [...(sentAt.get(m.to) ?? []), clock]);
      return send(m);
    };
    app = buildServer({ logger: logs.logger, checks: {} });
    registerAdminRoutes(app, {
      db: getDb(),
      config: { adminToken: TOKEN },
      now: () => clock,
      afterCommit: [(changes) => p.sink({ ...noEffects(), ...jobEffects(changes) })],
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    await p.close();
  });

  const post = async (url: string, payload: object) => {
    const res = await app.inject({
      method: 'POST',
      url,
      headers: { authorization: `Bearer ${TOKEN}` },
      payload,
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  };

  /**
   * One session on `date` at `time` local, and a consenting participant (quiet 20:00-09:00,
   * Europe/London) booked on it through the admin API, with the clock a week before.
   */
  async function booked(key: string, date: string, time: string) {
    clock = new Date(`${date}T00:00:00Z`);
    clock = new Date(clock.getTime() - 7 * 24 * 3600_000);
    const weekday = WEEKDAYS[new Date(`${date}T12:00:00Z`).getUTCDay()]!;
    const { sessions } = await post('/admin/activities', {
      key,
      name: 'Walking football',
      location: 'Moss Side Leisure Centre',
      capacity: 5,
      series: {
        start_date: date,
        end_date: date,
        weekly: { days: [weekday], time, duration_minutes: 60 },
      },
    });
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), {
      phone,
      tz: 'Europe/London',
      quietStart: '20:00',
      quietEnd: '09:00',
    });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    await post('/admin/bookings', { participant_id: who.id, session_id: sessions[0].id });
    return { phone, sessionId: sessions[0].id as string };
  }

  async function dayBefore(sessionId: string): Promise<ScheduledItem> {
    const { rows } = await getDb().query<ScheduledItem>(
      `SELECT id, kind, due_at AS "dueAt", version, state, job_id AS "jobId"
       FROM scheduled_items WHERE session_id = $1 AND kind = 'reminder_day_before'`,
      [sessionId],
    );
    expect(rows).toHaveLength(1);
    return rows[0]!;
  }

  /** Every day-before reminder row of the session, by due time. */
  async function dayBeforeRows(sessionId: string): Promise<ScheduledItem[]> {
    const { rows } = await getDb().query<ScheduledItem>(
      `SELECT id, kind, due_at AS "dueAt", version, state, job_id AS "jobId"
       FROM scheduled_items WHERE session_id = $1 AND kind = 'reminder_day_before'
       ORDER BY due_at`,
      [sessionId],
    );
    return rows;
  }

  const reminderRows = async (phone: string) =>
    (
      await getDb().query(
        `SELECT 1 FROM messages m JOIN participants p ON p.id = m.participant_id
         WHERE p.phone = $1 AND m.kind = 'reminder'`,
        [phone],
      )
    ).rowCount;

  it.each([
    // Spring: the day before the 29 March change is on GMT, the session day on BST.
    {
      change: 'spring',
      session: '2026-03-30',
      due: '2026-03-29T09:00:00.000Z',
      early: '2026-03-29T08:01:00Z',
    },
    // Autumn: Sunday 25 October is on GMT from 02:00 BST.
    {
      change: 'autumn',
      session: '2026-10-26',
      due: '2026-10-25T10:00:00.000Z',
      early: '2026-10-25T09:01:00Z',
    },
  ])(
    '78 (a) $change: the day-before reminder is sent at 10:00 local on the change day ($due), not 59 minutes early',
    async ({ change, session, due, early }) => {
      const b = await booked(`dst-a-${change}`, session, '10:00');
      const item = await dayBefore(b.sessionId);
      expect(item.dueAt.toISOString()).toBe(due);
      // The sink queued its delayed job once the clock was within the hour; promoted an hour
      // early (10:00 by the offset of the other side of the change) it is put back, not sent.
      clock = new Date(early);
      await p.sink({ ...noEffects(), items: [{ ...item, state: 'pending' }] });
      const job = await p.queues.reminders.getJob(item.jobId);
      expect(await job?.getState()).toBe('delayed');
      await job!.promote();
      await waitFor(async () => (await job!.getState()) === 'delayed', 10_000);
      expect(await reminderRows(b.phone)).toBe(0);
      expect(p.gateway.to(b.phone)).toEqual([]);
      // 10:00 local: promoted again (as its delay running out would), it is sent once.
      clock = new Date(due);
      await job!.promote();
      await waitFor(() => p.gateway.to(b.phone).length === 1, 15_000);
      expect(p.gateway.to(b.phone)[0]).toMatch(/^Reminder: Walking football is tomorrow at 10:00/);
      expect(sentAt.get(b.phone)!.map((d) => d.toISOString())).toEqual([due]);
      await new Promise((r) => setTimeout(r, 300));
      expect(p.gateway.to(b.phone)).toHaveLength(1);
    },
  );

  it.each([
    // Spring: fired late on Saturday evening (GMT), or in the night either side of 01:00 GMT.
    { label: 'spring, Saturday 21:30 GMT', session: '2026-03-29', at: '2026-03-28T21:30:00Z' },
    { label: 'spring, Sunday 00:30 GMT', session: '2026-03-29', at: '2026-03-29T00:30:00Z' },
    { label: 'spring, Sunday 03:00 BST', session: '2026-03-29', at: '2026-03-29T02:00:00Z' },
    // Autumn: Saturday evening on BST, and both 01:30s of Sunday.
    { label: 'autumn, Saturday 21:30 BST', session: '2026-10-25', at: '2026-10-24T20:30:00Z' },
    { label: 'autumn, first 01:30 (BST)', session: '2026-10-25', at: '2026-10-25T00:30:00Z' },
    { label: 'autumn, second 01:30 (GMT)', session: '2026-10-25', at: '2026-10-25T01:30:00Z' },
  ])(
    '78 (c) $label: fired late into quiet hours, deferred to 09:00 local on the change day, sent then, once',
    async ({ label, session, at }) => {
      // A Sunday 14:00 session: its day-before reminder was due on Saturday at 10:00.
      const b = await booked(`dst-c-${label.toLowerCase().replace(/\W+/g, '-')}`, session, '14:00');
      const item = await dayBefore(b.sessionId);
      clock = new Date(at);
      expect(await p.runner.handleItem(item.id, item.version)).toBe('skipped');
      // The deferred timer: the booking's one reminder row now due after the clock (today a
      // second row, not the planned row moved: see the known bug below).
      const later = (await dayBeforeRows(b.sessionId)).filter((r) => r.dueAt > clock);
      expect(later).toHaveLength(1);
      const moved = later[0]!;
      // 09:00 BST is 08:00Z in March; 09:00 GMT is 09:00Z in October.
      const nine = session.startsWith('2026-03')
        ? '2026-03-29T08:00:00.000Z'
        : '2026-10-25T09:00:00.000Z';
      expect(moved.dueAt.toISOString()).toBe(nine);
      expect(await reminderRows(b.phone)).toBe(0);
      // At 09:00 local the deferred timer fires and is sent, once.
      clock = new Date(nine);
      expect(await p.runner.handleItem(moved.id, moved.version)).toBe('fired');
      await waitFor(() => p.gateway.to(b.phone).length === 1, 15_000);
      expect(sentAt.get(b.phone)!.map((d) => d.toISOString())).toEqual([nine]);
      expect(p.gateway.to(b.phone)[0]).toMatch(/^Reminder: Walking football is tomorrow at 14:00/);
    },
  );

  /**
   * Found by this file: the deferral used to upsert the timer under `scheduledItemKey`
   * ("reminder_day_before|p=...|b=..."), but reminders planned from bookings are keyed
   * `booking:<id>:reminder_day_before`: a second row was inserted, the planned one stayed
   * `pending`, and once its finished job was gone the reconciler queued it again: two
   * reminders. The runner now moves the row itself (rescheduleItem, on id and version).
   */
  it('78 (c): a planned reminder deferred out of quiet hours is one row, sent once, even after the reconciler passes', async () => {
    const b = await booked('dst-c-one-row', '2026-03-29', '14:00');
    const item = await dayBefore(b.sessionId);
    clock = new Date('2026-03-28T21:30:00Z');
    expect(await p.runner.handleItem(item.id, item.version)).toBe('skipped');
    // 09:00 BST: the reconciler's pass, the skipped job's hash gone (as after its retention).
    clock = new Date('2026-03-29T08:00:00Z');
    await p.queues.reminders.remove(item.jobId);
    await reconcile(getDb(), p.redis, p.queues, p.prefix, clock, logs.logger);
    const reminders = () => p.gateway.to(b.phone).filter((t) => t.startsWith('Reminder:'));
    await waitFor(() => reminders().length >= 1, 15_000);
    await new Promise((r) => setTimeout(r, 1_500));
    // One reminder, one row (before the fix: the planned row, re-queued, and a deferred copy).
    expect(reminders()).toHaveLength(1);
    expect(await dayBeforeRows(b.sessionId)).toHaveLength(1);
  });
});
