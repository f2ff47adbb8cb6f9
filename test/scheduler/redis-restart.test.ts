import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobKey } from '../../src/scheduler/queues.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { type ScheduledItem, upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { type OwnRedis, startOwnRedis } from '../support/own-redis.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const N = 100;

/**
 * Checklist 68: Redis (the test's own, AOF everysec) killed and started again with 100 delayed
 * reminders pending. Due in 10-40 s rather than 1-10 minutes, to keep the suite short.
 */
describe('Redis restarted under 100 delayed reminders', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let redis: OwnRedis;
  let p: Pipeline;
  const phones: string[] = [];
  const items: ScheduledItem[] = [];

  beforeAll(async () => {
    redis = await startOwnRedis({ aof: true });
    p = await startPipeline(getDb(), redis.url);
    for (const q of Object.values(p.queues)) q.on('error', () => undefined);
    const db = getDb();
    const { rows } = await db.query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Chair Yoga', 'Moss Side Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '5 hours', now() + interval '6 hours' FROM a RETURNING id`,
    );
    const sessionId = rows[0]!.id;
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const phone = `+4477006${String(i).padStart(5, '0')}`;
      phones.push(phone);
      const participant = await createParticipant(db, {
        phone,
        quietStart: '00:00',
        quietEnd: '00:00',
      });
      await setConsent(db, participant.id, 'given', { actor: 'admin:test' });
      const b = await db.query<{ id: string }>(
        'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
        [participant.id, sessionId],
      );
      const { item } = await upsertScheduledItem(db, {
        kind: 'reminder_day_before',
        participantId: participant.id,
        bookingId: b.rows[0]!.id,
        sessionId,
        dueAt: new Date(t0 + 10_000 + (30_000 * i) / N),
      });
      items.push(item);
    }
  }, 90_000);
  afterAll(async () => {
    await p.close();
    await redis.stop();
  });

  it('all 100 jobs survive the restart, workers reconnect by themselves, each reminder fires once and on time', async () => {
    await p.sink({ sends: [], items, cancelledJobs: [], handoffs: [] });
    expect(await p.queues.reminders.getDelayedCount()).toBe(N);
    const before = await Promise.all(items.map((i) => p.queues.reminders.getJob(i.jobId)));
    // Past the AOF's one-second fsync, then the hardest stop there is.
    await new Promise((r) => setTimeout(r, 1_500));
    await redis.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 2_000));
    await redis.restart();

    // The same 100 jobs, from the AOF: same ids and creation times (not re-made by a reconcile).
    const look = new Redis(redis.url);
    const stamps = await Promise.all(
      items.map((i) => look.hget(jobKey(p.prefix, 'reminders', i.jobId), 'timestamp')),
    );
    look.disconnect();
    expect(stamps).toEqual(before.map((j) => String(j?.timestamp)));
    expect(await p.queues.reminders.getDelayedCount()).toBe(N);

    // Nobody reconnects the workers: they do it themselves.
    await waitFor(() => phones.every((ph) => p.gateway.to(ph).length >= 1), 90_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(phones.map((ph) => p.gateway.to(ph).length)).toEqual(phones.map(() => 1));
    expect(p.gateway.to(phones[0]!)[0]).toMatch(/^Reminder: Chair Yoga/);
    const { rows } = await getDb().query<{ state: string; n: number; worst: number }>(
      `SELECT state, count(*)::int AS n, max(extract(epoch FROM fired_at - due_at))::float AS worst
       FROM scheduled_items WHERE id = ANY($1::uuid[]) GROUP BY 1`,
      [items.map((i) => i.id)],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ state: 'fired', n: N });
    // None early, none more than the checklist's 60 s late.
    const early = await getDb().query(
      'SELECT 1 FROM scheduled_items WHERE id = ANY($1::uuid[]) AND fired_at < due_at',
      [items.map((i) => i.id)],
    );
    expect(early.rowCount).toBe(0);
    expect(rows[0]!.worst).toBeLessThan(60);
  }, 150_000);
});
