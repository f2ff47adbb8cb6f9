import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JOB_RETENTION } from '../../src/scheduler/queues.js';
import { overdueCount, reconcile } from '../../src/scheduler/reconciler.js';
import {
  listDueItems,
  type ScheduledItem,
  transitionItem,
  upsertScheduledItem,
} from '../../src/store/repos/scheduled-items.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { type OwnRedis, startOwnRedis } from '../support/own-redis.js';
import { type Pipeline, startPipeline, useLogWatch, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('timers survive Redis losing everything', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let redis: OwnRedis;
  let p: Pipeline;
  let sessionId: string;

  beforeAll(async () => {
    redis = await startOwnRedis();
    p = await startPipeline(getDb(), redis.url);
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name) VALUES ('Walking football') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '2 days', now() + interval '2 days 1 hour' FROM a RETURNING id`,
    );
    sessionId = rows[0]!.id;
  }, 60_000);
  afterAll(async () => {
    await p.close();
    await redis.stop();
  });

  /** Inserted in one statement, so a loaded machine cannot make the first ones due early. */
  async function timers(n: number, dueInMs: number, slot: string): Promise<ScheduledItem[]> {
    const due = new Date(Date.now() + dueInMs);
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO scheduled_items (item_key, kind, session_id, due_at)
       SELECT 'lead_summary|p=|b=|s=' || $1 || '|c=|slot=' || $2 || '-' || i, 'lead_summary', $1::uuid, $3
       FROM generate_series(0, $4 - 1) AS i RETURNING id`,
      [sessionId, slot, due, n],
    );
    const ids = new Set(rows.map((r) => r.id));
    const all = await listDueItems(getDb(), { to: new Date(due.getTime() + 1), limit: 100_000 });
    return all.filter((i) => ids.has(i.id));
  }

  async function firedCount(ids: string[]): Promise<Map<string, number>> {
    const { rows } = await getDb().query<{ item: string; n: number }>(
      `SELECT detail->>'item' AS item, count(*)::int AS n FROM audit_events WHERE kind = 'lead_summary_due' AND detail->>'item' = ANY($1::text[]) GROUP BY 1`,
      [ids],
    );
    return new Map(rows.map((r) => [r.item, r.n]));
  }

  it('FLUSHALL with 1,000 pending timers: the reconciler restores them all and each fires exactly once', async () => {
    const items = await timers(1000, 15_000, 'flush');
    await p.sink({ sends: [], items, cancelledJobs: [], handoffs: [] });
    expect(await p.queues.nudges.getDelayedCount()).toBe(1000);
    const admin = new Redis(redis.url);
    await admin.flushall();
    expect(await p.queues.nudges.getDelayedCount()).toBe(0);
    // The workers' own every-minute reconcile may race this one: together they restore all.
    const restored = await reconcile(getDb(), p.redis, p.queues, p.prefix, new Date(), logs.logger);
    expect(restored.items).toBeGreaterThan(0);
    expect(await p.queues.nudges.getDelayedCount()).toBe(1000);
    // A second pass finds nothing missing: no duplicates.
    expect(
      (await reconcile(getDb(), p.redis, p.queues, p.prefix, new Date(), logs.logger)).items,
    ).toBe(0);
    const ids = items.map((i) => i.id);
    await waitFor(async () => (await firedCount(ids)).size === 1000, 60_000);
    const counts = await firedCount(ids);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const { rows } = await getDb().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM scheduled_items WHERE id = ANY($1::uuid[]) AND state = 'fired'",
      [ids],
    );
    expect(rows[0]?.n).toBe(1000);
    admin.disconnect();
  }, 90_000);

  it('the overdue figure counts timers more than two minutes late and not fired', async () => {
    const before = await overdueCount(getDb(), new Date());
    await upsertScheduledItem(getDb(), {
      kind: 'lead_summary',
      sessionId,
      slot: 'late',
      dueAt: new Date(Date.now() - 5 * 60_000),
    });
    await upsertScheduledItem(getDb(), {
      kind: 'lead_summary',
      sessionId,
      slot: 'recent',
      dueAt: new Date(Date.now() - 30_000),
    });
    expect(await overdueCount(getDb(), new Date())).toBe(before + 1);
  });

  it('a queued timer job holds only opaque ids and an age-limited retention (checklist 80)', async () => {
    const [item] = await timers(1, 60_000, 'hygiene');
    await p.sink({ sends: [], items: [item!], cancelledJobs: [], handoffs: [] });
    const admin = new Redis(redis.url);
    const hash = await admin.hgetall(`${p.prefix}:nudges:${item!.jobId}`);
    admin.disconnect();
    expect(JSON.parse(hash.data ?? '{}')).toEqual({ itemId: item!.id, version: 1 });
    // Retention is the workers' (JOB_RETENTION), not copied into each job: age-limited.
    const opts = JSON.parse(hash.opts ?? '{}');
    expect(opts.removeOnFail).toBeUndefined();
    expect(JOB_RETENTION.removeOnFail.age).toBeLessThanOrEqual(30 * 24 * 3600);
    expect(JOB_RETENTION.removeOnComplete.age).toBeLessThanOrEqual(24 * 3600);
    expect(JSON.stringify(hash)).not.toMatch(/\+44|Walking/);
  });

  it('a moved timer fires once at its new time; the old job is a no-op; a cancelled one never fires', async () => {
    const [moving] = await timers(1, 1_000, 'move');
    const [cancelled] = await timers(1, 1_000, 'cancel');
    await p.sink({ sends: [], items: [moving!, cancelled!], cancelledJobs: [], handoffs: [] });
    const { item: moved } = await upsertScheduledItem(getDb(), {
      kind: 'lead_summary',
      sessionId,
      slot: 'move-0',
      dueAt: new Date(Date.now() + 2_500),
    });
    expect(moved.version).toBe(2);
    expect(moved.jobId).not.toBe(moving!.jobId);
    await p.sink({ sends: [], items: [moved], cancelledJobs: [], handoffs: [] });
    await transitionItem(getDb(), cancelled!.id, cancelled!.version, {
      to: 'cancelled',
      reason: 'session_cancelled',
    });
    await waitFor(async () => (await firedCount([moved.id])).size === 1, 20_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await firedCount([moved.id, cancelled!.id])).toEqual(new Map([[moved.id, 1]]));
    const old = await p.queues.nudges.getJob(moving!.jobId);
    expect(await old?.getState()).toBe('completed');
    expect(old?.returnvalue).toBe('stale');
  }, 30_000);
});
