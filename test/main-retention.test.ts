import { randomBytes } from 'node:crypto';
import type { Job } from 'bullmq';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { buildService, type Service } from '../src/main.js';
import { RETENTION_AT, RETENTION_JOB } from '../src/scheduler/workers.js';
import { openDb } from '../src/store/db.js';
import { TEST_DATABASE_URL } from './store/drivers.js';
import { LeakWatch } from './support/leak-check.js';
import { capturedLogger } from './support/log-capture.js';
import { waitFor } from './support/pipeline.js';

/**
 * Checklist 89, the wiring: the nightly job named `retention` on the maintenance queue,
 * handled by the workers `buildService` starts, really runs `Service.applyRetention` on the
 * service's database (test/store/retention.test.ts tests what a run removes;
 * test/scheduler/job-scheduler.test.ts the schedule, with a stub `run`). And the nightly
 * trigger itself: the Job Scheduler the service upserts at start queues a delayed `retention`
 * job due at the next 03:30 in DEFAULT_TZ (Europe/London), which, promoted, the workers run.
 */
describe('the retention job as `linkline serve` wires it (checklist 89)', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const capture = capturedLogger('trace');
  const leaks = new LeakWatch();
  let service: Service;

  beforeAll(async () => {
    const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await bootstrap.close();
    const config = loadConfig({
      PORT: String(21_000 + Math.floor(Math.random() * 4000)),
      HOST: '127.0.0.1',
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
      SMS_RATE: '0',
      SMS_INBOUND_SWEEP_SECONDS: '0',
      LOG_LEVEL: 'trace',
      RETENTION_MONTHS: '12',
    });
    service = await buildService(config, capture.logger);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      Object.values(service.queues).map((q) =>
        q.obliterate({ force: true }).catch(() => undefined),
      ),
    );
    await service.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await service.close();
    leaks.assertClean(capture.output(), 'the retention job');
  });

  /** A participant whose only activity (a text in, handled, and the reply) was `monthsAgo` months ago. */
  async function personTexted(monthsAgo: number, phone: string, body: string) {
    const at = new Date(Date.now() - monthsAgo * 31 * 86_400_000);
    leaks.phone(phone);
    leaks.add('an SMS body stored', body);
    const { rows } = await service.db.query<{ id: string }>(
      `INSERT INTO participants (ref, phone, created_at) VALUES ($1, $2, $3) RETURNING id`,
      [`P-RW${randomBytes(3).toString('hex').toUpperCase()}`, phone, at],
    );
    const id = rows[0]!.id;
    await service.db.query(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body, created_at, processed_at)
       VALUES ('in', 'sms', $1, $2, 'received', $3, $4, $4),
              ('out', 'sms', $1, $2, 'delivered', 'Thank you for your message.', $4, NULL)`,
      [id, phone, body, at],
    );
    return id;
  }

  const bodies = async (participantId: string) =>
    (
      await service.db.query<{ body: string | null; address: string | null }>(
        'SELECT body, address FROM messages WHERE participant_id = $1 ORDER BY direction',
        [participantId],
      )
    ).rows;

  it('89: a `retention` job on the maintenance queue runs Service.applyRetention: content past the period is removed, recent content kept', async () => {
    const old = await personTexted(14, '+447700900611', 'an old worry of mine');
    const recent = await personTexted(1, '+447700900612', 'a recent worry of mine');
    // Nothing has removed it before the job (no run at start-up).
    expect(await bodies(old)).toEqual([
      { body: 'an old worry of mine', address: '+447700900611' },
      { body: 'Thank you for your message.', address: '+447700900611' },
    ]);
    const job = await service.queues.maintenance.add(RETENTION_JOB, {});
    await waitFor(
      async () => (await service.queues.maintenance.getJob(job.id!))?.finishedOn !== undefined,
    );
    const done = await service.queues.maintenance.getJob(job.id!);
    expect(done?.failedReason).toBeUndefined();
    // What Service.applyRetention returns is the job's result: the counts of this run.
    expect(done?.returnvalue).toMatchObject({ participants: 1, messages: 2 });
    expect(await bodies(old)).toEqual([
      { body: null, address: null },
      { body: null, address: null },
    ]);
    expect(await bodies(recent)).toEqual([
      { body: 'a recent worry of mine', address: '+447700900612' },
      { body: 'Thank you for your message.', address: '+447700900612' },
    ]);
    const audit = await service.db.query<{ detail: Record<string, unknown> }>(
      `SELECT detail FROM audit_events WHERE kind = 'retention.applied'`,
    );
    expect(audit.rows).toHaveLength(1);
    expect(audit.rows[0]!.detail).toMatchObject({ participants: 1, messages: 2 });
    // Logged with counts only (the leak check at the end looks for the bodies and numbers).
    const line = capture
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"retention applied"'));
    expect(JSON.parse(line!)).toMatchObject({
      level: 'info',
      component: 'retention',
      participants: 1,
      messages: 2,
      months: 12,
    });
  });

  /** The `retention` jobs waiting in the maintenance queue's delayed set. */
  const delayedRetention = async () =>
    (await service.queues.maintenance.getDelayed()).filter((j) => j.name === RETENTION_JOB);

  /** When a delayed job is due (its timestamp plus its delay), as an instant in UTC. */
  const dueAt = (job: Job) => DateTime.fromMillis(job.timestamp + (job.opts.delay ?? 0)).toUTC();

  /** The next 03:30 in `tz` strictly after `from`. */
  const next0330 = (from: DateTime, tz: string) => {
    let at = from.setZone(tz).set({ hour: 3, minute: 30, second: 0, millisecond: 0 });
    if (at <= from) at = at.plus({ days: 1 });
    return at;
  };

  /** Promotes the job, waits until a worker has finished it, and returns it finished. */
  async function promoteAndRun(job: Job) {
    await job.promote();
    await waitFor(
      async () => (await service.queues.maintenance.getJob(job.id!))?.finishedOn !== undefined,
    );
    const done = (await service.queues.maintenance.getJob(job.id!))!;
    expect(done.failedReason).toBeUndefined();
    return done;
  }

  /** Waits for the scheduler's next delayed `retention` job after `previous`, and returns it. */
  async function nextDelayed(previous: Job) {
    let found: Job[] = [];
    await waitFor(async () => {
      found = (await delayedRetention()).filter((j) => j.id !== previous.id);
      return found.length > 0;
    });
    // One upcoming night, not one per run.
    expect(found).toHaveLength(1);
    return found[0]!;
  }

  it('89: the nightly Job Scheduler queues one delayed `retention` job at the next 03:30 Europe/London; promoted, the workers run applyRetention, and the next night is queued', async () => {
    const tz = service.config.defaults.tz;
    expect(tz).toBe('Europe/London');
    // What buildService's workers upserted at start: one scheduler, 03:30 in the service zone.
    const scheduler = await service.queues.maintenance.getJobScheduler(RETENTION_JOB);
    expect(scheduler).toMatchObject({ pattern: RETENTION_AT, tz });
    const [tonight, ...more] = await delayedRetention();
    expect(more).toHaveLength(0);
    const expected = next0330(DateTime.fromMillis(tonight!.timestamp), tz);
    expect(dueAt(tonight!).toISO()).toBe(expected.toUTC().toISO());
    expect(Number(scheduler?.next)).toBe(expected.toMillis());
    expect(expected.setZone(tz).toFormat('HH:mm')).toBe('03:30');

    // Someone last active 14 months ago: the promoted job (as if 03:30 had come) removes it.
    const old = await personTexted(14, '+447700900613', 'a worry from long ago');
    const done = await promoteAndRun(tonight!);
    expect(done.returnvalue).toMatchObject({ participants: 1, messages: 2 });
    expect(await bodies(old)).toEqual([
      { body: null, address: null },
      { body: null, address: null },
    ]);
    // The scheduler then queues the next night's, 03:30 a day later (none skipped, none doubled).
    const tomorrow = await nextDelayed(tonight!);
    expect(dueAt(tomorrow).toISO()).toBe(expected.plus({ days: 1 }).toUTC().toISO());
  });

  it('89: across the clock changes (the scheduler started ahead with BullMQ startDate) it is 03:30 London each night: 03:30 UTC in GMT, 02:30 UTC in BST', async () => {
    const tz = service.config.defaults.tz;
    for (const { startDate, nights } of [
      // Clocks go forward on Sunday 28 March 2027 (01:00 UTC).
      {
        startDate: '2027-03-26T12:00:00Z',
        nights: [
          '2027-03-27T03:30:00.000Z',
          '2027-03-28T02:30:00.000Z',
          '2027-03-29T02:30:00.000Z',
        ],
      },
      // Clocks go back on Sunday 31 October 2027 (01:00 UTC).
      {
        startDate: '2027-10-29T12:00:00Z',
        nights: [
          '2027-10-30T02:30:00.000Z',
          '2027-10-31T03:30:00.000Z',
          '2027-11-01T03:30:00.000Z',
        ],
      },
    ]) {
      // The service's own pattern and zone, with a start date ahead of now.
      await service.queues.maintenance.upsertJobScheduler(
        RETENTION_JOB,
        { pattern: RETENTION_AT, tz, startDate: new Date(startDate) },
        { name: RETENTION_JOB },
      );
      const first = await delayedRetention();
      expect(first, startDate).toHaveLength(1);
      let job = first[0]!;
      const seen = [dueAt(job).toISO()];
      for (let night = 1; night < nights.length; night++) {
        // Each night's job, promoted, is run by the workers (a real retention run, counts back).
        const done = await promoteAndRun(job);
        expect(done.returnvalue).toHaveProperty('participants');
        job = await nextDelayed(job);
        seen.push(dueAt(job).toISO());
      }
      expect(seen).toEqual(nights);
      for (const at of seen)
        expect(DateTime.fromISO(at!).setZone(tz).toFormat('HH:mm'), at!).toBe('03:30');
    }
  });
});
