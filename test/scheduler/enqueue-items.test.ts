import { describe, expect, it } from 'vitest';
import type { Queues } from '../../src/scheduler/queues.js';
import { queueFor } from '../../src/scheduler/queues.js';
import { ADD_CHUNK, enqueueItems } from '../../src/scheduler/sink.js';
import type { Db } from '../../src/store/db.js';
import { listDueItems } from '../../src/store/repos/scheduled-items.js';
import { drivers, useTestDb } from '../store/drivers.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/** Queues that accept every job (the Redis side is not what this test is about). */
const anyQueue = { addBulk: async () => [] };
const queues = new Proxy({}, { get: () => anyQueue }) as unknown as Queues;

/** `count` timers of a new session, all due at `due`, their kinds taken in turn from `kinds`. */
async function seedTimers(db: Db, count: number, due: Date, kinds: readonly string[]) {
  const { rows } = await db.query<{ id: string }>(
    `WITH a AS (INSERT INTO activities (name) VALUES ('Walking football') RETURNING id)
     INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '1 day', now() + interval '1 day 1 hour' FROM a RETURNING id`,
  );
  await db.query(
    `INSERT INTO scheduled_items (item_key, kind, session_id, due_at)
     SELECT k.kind || '|s=' || $1 || '|slot=' || i, k.kind, $1::uuid, $2
     FROM generate_series(1, $4::int) AS i
     JOIN LATERAL (SELECT ($3::text[])[1 + i % array_length($3::text[], 1)] AS kind) k ON true`,
    [rows[0]!.id, due, kinds, count],
  );
  const items = await listDueItems(db, { to: new Date(due.getTime() + 1), limit: 10_000 });
  return items.filter((i) => i.dueAt.getTime() === due.getTime());
}

describe('marking timers enqueued from several places at once (pg)', () => {
  const getDb = useTestDb(pg, { migrated: true });

  it('the sink and reconcilers marking the same 4,000 timers in opposite orders: no deadlock, all marked', async () => {
    const db = getDb();
    const due = new Date(Date.now() + 30 * 60_000);
    const items = await seedTimers(db, 4000, due, ['lead_summary']);
    expect(items).toHaveLength(4000);
    const reversed = [...items].reverse();
    const shuffled = [...items].sort((a, b) => a.jobId.localeCompare(b.jobId));
    for (let round = 0; round < 3; round++) {
      await db.query(`UPDATE scheduled_items SET state = 'pending'`);
      const now = new Date();
      await Promise.all([
        enqueueItems(db, queues, items, now),
        enqueueItems(db, queues, reversed, now),
        enqueueItems(db, queues, shuffled, now),
      ]);
      const { rows: left } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM scheduled_items WHERE state <> 'enqueued'`,
      );
      expect(left[0]?.n).toBe(0);
    }
  });

  it('a reconciler-sized list (2,500 timers of two kinds): each job once, on its own queue, at most ADD_CHUNK per call', async () => {
    const db = getDb();
    const due = new Date(Date.now() + 20 * 60_000);
    const items = await seedTimers(db, 2500, due, ['lead_summary', 'reminder_same_day']);
    expect(items).toHaveLength(2500);
    const calls: { queue: string; jobs: { name: string; opts: { jobId: string } }[] }[] = [];
    const recording = new Proxy(
      {},
      {
        get: (_, queue: string) => ({
          addBulk: async (jobs: { name: string; opts: { jobId: string } }[]) => {
            calls.push({ queue, jobs });
            return [];
          },
        }),
      },
    ) as unknown as Queues;
    await enqueueItems(db, recording, items, new Date());
    const jobIds = calls.flatMap((c) => c.jobs.map((j) => j.opts.jobId));
    expect(jobIds.sort()).toEqual(items.map((i) => i.jobId).sort());
    expect(Math.max(...calls.map((c) => c.jobs.length))).toBeLessThanOrEqual(ADD_CHUNK);
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const c of calls) for (const j of c.jobs) expect(queueFor(j.name as never)).toBe(c.queue);
  });
});
