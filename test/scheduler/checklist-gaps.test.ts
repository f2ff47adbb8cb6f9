/**
 * Reliability checklist B6 gaps: a session moved end to end (65), a re-plan after the
 * reminder's job completed and is retained (66), and the reminders queue's own early-fire
 * check under clock skew (77).
 *
 * 65 and 66 drive `linkline serve` in sandbox mode (test/support/sandbox-server.ts): the real
 * admin API, queues, workers, reconciler and the in-process local Twilio, with the sandbox
 * clock (real time plus an offset) standing in for the passing days. Moving that clock runs
 * what fell due (fireDue), as the sandbox page does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchOutcome } from '../../src/runner/runner.js';
import { EARLY_TOLERANCE_MS } from '../../src/scheduler/early-guard.js';
import { createSink } from '../../src/scheduler/sink.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { type ScheduledItem, upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';
import { type RunningService, startService } from '../support/sandbox-server.js';
import { at, dayFromToday, driver, sleep } from './gaps-support.js';

const TOKEN = 'checklist-gaps-admin-token-0123';

describe('checklist 65: a session moved through the admin API, end to end', () => {
  let s: RunningService;
  const d = driver(() => s, TOKEN);
  beforeAll(async () => {
    s = await startService({ ADMIN_TOKEN: TOKEN });
  }, 60_000);
  afterAll(async () => s?.stop());

  it('65: moved a day later: the old delayed job is removed from Redis, nothing is sent at the old time, exactly one reminder at the new time', async () => {
    // A session three days ahead at 12:00: its day-before reminder is at 10:00 two days ahead.
    const day = dayFromToday(3);
    const b = await d.bookedSession(`gaps-move-${Date.now()}`, day);
    const old = await d.dayBefore(b.bookingId);
    expect(old.due_at).toEqual(at(day.minus({ days: 1 }), 10).toJSDate());

    // Half an hour before it: the reconciler gives it a delayed job (due in 30 minutes).
    await d.clockTo(at(day.minus({ days: 1 }), 9, 30));
    await d.reconcileNow();
    const oldJob = await d.reminderJob(old.job_id);
    expect(await oldJob?.getState()).toBe('delayed');
    expect(oldJob?.data).toEqual({ itemId: old.id, version: old.version });

    // The session moves a day later, through the admin API (its after-commit sink).
    const moved = await d.admin(`/admin/sessions/${b.sessionId}/move`, {
      starts_at: at(day.plus({ days: 1 }), 12)
        .toUTC()
        .toISO(),
    });
    expect(moved.session).toMatchObject({ status: 'moved' });
    const now = await d.dayBefore(b.bookingId);
    expect(now.id).toBe(old.id);
    expect(now.version).toBe(old.version + 1);
    expect(now.job_id).toBe(`si-${old.id}-v${old.version + 1}`);
    expect(now.due_at).toEqual(at(day, 10).toJSDate());
    expect(['pending', 'enqueued']).toContain(now.state);
    // The old job is gone from Redis, in every state.
    expect(await d.reminderJob(old.job_id)).toBeUndefined();

    // The old time comes and goes: no reminder.
    await d.clockTo(at(day.minus({ days: 1 }), 10, 5));
    await sleep(1_500);
    expect(await d.remindersAtTwilio(b.phone)).toEqual([]);
    expect(await d.reminderRows(b.participantId)).toBe(0);
    expect(await d.reminderJob(old.job_id)).toBeUndefined();

    // The new time: one reminder, for the new day, at the local Twilio.
    await d.clockTo(at(day, 10));
    await waitFor(async () => (await d.remindersAtTwilio(b.phone)).length > 0, 20_000);
    await sleep(1_500);
    const sent = await d.remindersAtTwilio(b.phone);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatch(/^Reminder: Walking football is tomorrow at 12:00, /);
    expect(await d.reminderRows(b.participantId)).toBe(1);
    expect(await d.dayBefore(b.bookingId)).toMatchObject({ version: now.version, state: 'fired' });
    const newJob = await d.reminderJob(now.job_id);
    expect(await newJob?.getState()).toBe('completed');
    expect(newJob?.returnvalue).toBe('fired');
    expect(await d.reminderJob(old.job_id)).toBeUndefined();
  }, 60_000);
});

describe('checklist 66: a re-plan after the reminder job completed and is retained', () => {
  let s: RunningService;
  const d = driver(() => s, TOKEN);
  beforeAll(async () => {
    s = await startService({ ADMIN_TOKEN: TOKEN });
  }, 60_000);
  afterAll(async () => s?.stop());

  it('66: the v1 reminder fires and its completed job is kept; the session moves; job si-<id>-v2 is created (delayed), fires once, v1 stays completed', async () => {
    const day = dayFromToday(3);
    const b = await d.bookedSession(`gaps-replan-${Date.now()}`, day);
    const v1 = await d.dayBefore(b.bookingId);
    expect(v1.job_id).toBe(`si-${v1.id}-v1`);

    // v1 fires at its time and its job completes.
    await d.clockTo(at(day.minus({ days: 1 }), 9, 30));
    await d.reconcileNow();
    expect(await (await d.reminderJob(v1.job_id))?.getState()).toBe('delayed');
    await d.clockTo(at(day.minus({ days: 1 }), 10));
    await waitFor(async () => (await d.remindersAtTwilio(b.phone)).length === 1, 20_000);
    await waitFor(async () => (await (await d.reminderJob(v1.job_id))?.getState()) === 'completed');
    expect((await d.reminderJob(v1.job_id))?.returnvalue).toBe('fired');
    expect(await d.dayBefore(b.bookingId)).toMatchObject({ version: 1, state: 'fired' });

    // The session moves a day later: the fired reminder is planned again as v2.
    await d.admin(`/admin/sessions/${b.sessionId}/move`, {
      starts_at: at(day.plus({ days: 1 }), 12)
        .toUTC()
        .toISO(),
    });
    const v2 = await d.dayBefore(b.bookingId);
    expect(v2).toMatchObject({ id: v1.id, version: 2, state: 'pending' });
    expect(v2.job_id).toBe(`si-${v1.id}-v2`);
    expect(v2.due_at).toEqual(at(day, 10).toJSDate());
    // The completed v1 job is still retained (JOB_RETENTION keeps completed jobs a day):
    // an add under its id would be ignored without a word.
    const kept = await d.reminderJob(v1.job_id);
    expect(await kept?.getState()).toBe('completed');

    // Half an hour before the new time the reconciler adds v2: it exists, delayed.
    await d.clockTo(at(day, 9, 30));
    await d.reconcileNow();
    const job = await d.reminderJob(v2.job_id);
    expect(job).toBeDefined();
    expect(await job!.getState()).toBe('delayed');
    expect(job!.data).toEqual({ itemId: v1.id, version: 2 });
    expect(await (await d.reminderJob(v1.job_id))?.getState()).toBe('completed');
    expect(await d.dayBefore(b.bookingId)).toMatchObject({ version: 2, state: 'enqueued' });

    // It fires once at the new time: a second reminder in all, for the new day.
    await d.clockTo(at(day, 10));
    await waitFor(async () => (await d.remindersAtTwilio(b.phone)).length >= 2, 20_000);
    await sleep(1_500);
    const sent = await d.remindersAtTwilio(b.phone);
    expect(sent).toHaveLength(2);
    expect(await d.reminderRows(b.participantId)).toBe(2);
    expect(await d.dayBefore(b.bookingId)).toMatchObject({ version: 2, state: 'fired' });
    const done = await d.reminderJob(v2.job_id);
    expect(await done?.getState()).toBe('completed');
    expect(done?.returnvalue).toBe('fired');
  }, 60_000);
});

/**
 * Checklist 77 on the reminders queue: its jobs go through the batch path (the reminder
 * processor in src/scheduler/workers.ts, earlyMs in handleItemBatch, src/runner/runner.ts),
 * whose early check is its own, not the single-timer path's earlyBy.
 */
describe('checklist 77: a reminder job that runs before its due time', () => {
  const getDb = useTestDb(drivers.find((x) => x.name === 'pg')!, { migrated: true });
  let p: Pipeline;
  let sessionId: string;
  /** When the provider was called, by number. */
  const sends: { to: string; at: number }[] = [];
  /** Each batch's outcome for each item it was given. */
  const batches: { itemId: string; outcome: BatchOutcome }[] = [];
  /** Items run on their own (handleItem), not by a batch. */
  const alone: string[] = [];

  beforeAll(async () => {
    p = await startPipeline(getDb());
    const send = p.gateway.send.bind(p.gateway);
    p.gateway.send = async (m) => {
      sends.push({ to: m.to, at: Date.now() });
      return send(m);
    };
    const batch = p.runner.handleItemBatch;
    p.runner.handleItemBatch = async (refs, earlyMs) => {
      const out = await batch(refs, earlyMs);
      refs.forEach((r, i) => void batches.push({ itemId: r.itemId, outcome: out[i]! }));
      return out;
    };
    const one = p.runner.handleItem;
    p.runner.handleItem = async (itemId, version) => {
      alone.push(itemId);
      return one(itemId, version);
    };
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id`,
    );
    sessionId = rows[0]!.id;
    // The reconciler's pass at start-up would queue a row itself, on the worker's clock: let
    // it finish first (the next is a minute away), as the nudges skew test does.
    await waitFor(async () => (await p.queues.maintenance.getCompletedCount()) > 0, 30_000);
  }, 60_000);
  afterAll(async () => p?.close());

  /** A consenting participant with no quiet hours, booked, their reminder due in `ms`. */
  async function reminderDueIn(ms: number): Promise<{ phone: string; item: ScheduledItem }> {
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), { phone, quietStart: '00:00', quietEnd: '00:00' });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    const { rows } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [who.id, sessionId],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: who.id,
      bookingId: rows[0]!.id,
      sessionId,
      dueAt: new Date(Date.now() + ms),
    });
    return { phone, item };
  }

  /** The job's states, sampled until it completes (or fails). */
  async function statesUntilDone(jobId: string): Promise<string[]> {
    const seen: string[] = [];
    await waitFor(async () => {
      const state = await p.queues.reminders.getJobState(jobId);
      if (seen.at(-1) !== state) seen.push(state);
      return state === 'completed' || state === 'failed';
    }, 40_000);
    return seen;
  }

  /** How early (ms, negative: late) the item was marked fired, by the database's clock. */
  async function firedEarlyBy(itemId: string): Promise<number | undefined> {
    const { rows } = await getDb().query<{ early: number }>(
      `SELECT extract(epoch FROM due_at - fired_at)::float * 1000 AS early
       FROM scheduled_items WHERE id = $1 AND state = 'fired'`,
      [itemId],
    );
    return rows[0]?.early;
  }

  /** What the checks below share: re-delayed by the batch, then sent once, not early. */
  async function expectHeldBackThenSentOnce(
    r: { phone: string; item: ScheduledItem },
    states: string[],
  ) {
    // Sent once, and not before its due time (within the tolerance).
    await waitFor(() => p.gateway.to(r.phone).length > 0);
    await sleep(1_000);
    const calls = sends.filter((x) => x.to === r.phone);
    expect(calls).toHaveLength(1);
    expect(r.item.dueAt.getTime() - calls[0]!.at).toBeLessThanOrEqual(EARLY_TOLERANCE_MS);
    expect(await firedEarlyBy(r.item.id)).toBeLessThanOrEqual(EARLY_TOLERANCE_MS);
    expect(p.gateway.to(r.phone)).toHaveLength(1);
    expect(p.gateway.to(r.phone)[0]).toMatch(/^Reminder: Art Club is tomorrow at /);
    // How: the batch path ran it early and said so (nothing written), the worker put the job
    // back in the delayed set, and the next run (by a batch again) fired it.
    const mine = batches.filter((x) => x.itemId === r.item.id).map((x) => x.outcome);
    expect(mine[0]).toEqual({ earlyMs: expect.any(Number) });
    expect((mine[0] as { earlyMs: number }).earlyMs).toBeGreaterThan(EARLY_TOLERANCE_MS);
    expect(mine.at(-1)).toBe('fired');
    expect(mine.filter((o) => o === 'fired')).toHaveLength(1);
    expect(alone).not.toContain(r.item.id);
    expect(states).toContain('delayed');
    expect(states.at(-1)).toBe('completed');
    const job = await p.queues.reminders.getJob(r.item.jobId);
    expect(job?.returnvalue).toBe('fired');
  }

  it('77: queued by a producer 90 s ahead (no delay), the reminder is held back by the batch path and sent once at its time, not early', async () => {
    const r = await reminderDueIn(6_000);
    const ahead = () => new Date(Date.now() + 90_000);
    // Held until the sink has returned: with no delay, a worker could take the job while the
    // sink's own UPDATE (to 'enqueued') still holds the row, and the batch would hand it back
    // as 'alone' (busy) to the single-timer path. That path has its own early check; this
    // test is about the batch's.
    await p.queues.reminders.pause();
    try {
      await createSink(
        getDb(),
        p.queues,
        p.logger,
        ahead,
      )({
        sends: [],
        items: [r.item],
        cancelledJobs: [],
        handoffs: [],
      });
    } finally {
      await p.queues.reminders.resume();
    }
    // On the producer's clock it is overdue: queued with no delay at all.
    const job = await p.queues.reminders.getJob(r.item.jobId);
    expect(job?.delay).toBe(0);
    const states = await statesUntilDone(r.item.jobId);
    await expectHeldBackThenSentOnce(r, states);
  }, 60_000);

  it('77: a delayed reminder promoted early (a worker clock behind, a manual promote) is put back until its time and sent once, not early', async () => {
    const r = await reminderDueIn(6_000);
    await p.sink({ sends: [], items: [r.item], cancelledJobs: [], handoffs: [] });
    const job = (await p.queues.reminders.getJob(r.item.jobId))!;
    expect(await job.getState()).toBe('delayed');
    await job.promote();
    const states = await statesUntilDone(r.item.jobId);
    await expectHeldBackThenSentOnce(r, states);
  }, 60_000);
});
