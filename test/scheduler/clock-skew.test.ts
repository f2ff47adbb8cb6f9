import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_WARN_MS, checkClockSkew } from '../../src/scheduler/clock-skew.js';
import { EARLY_TOLERANCE_MS } from '../../src/scheduler/early-guard.js';
import { createSink } from '../../src/scheduler/sink.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { type Pipeline, startPipeline, useLogWatch, waitFor } from '../support/pipeline.js';

/** Checklist 77: the start-up check that this host's clock agrees with Redis `TIME`. */
describe('clock skew against Redis TIME', () => {
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  afterAll(() => redis.disconnect());

  it('a host in step with Redis: under a second apart, nothing logged', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger);
    expect(Math.abs(skew)).toBeLessThan(CLOCK_SKEW_WARN_MS);
    expect(output()).toBe('');
  });

  it('a host 90 s ahead: the skew is measured and a warning names it', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger, () => Date.now() + 90_000);
    expect(skew).toBeGreaterThan(89_000);
    expect(skew).toBeLessThan(91_000);
    const line = JSON.parse(output().trim().split('\n')[0] ?? '{}');
    expect(line.level).toBe('warn');
    expect(line.skewMs).toBe(skew);
    expect(line.msg).toMatch(/differs from Redis TIME/);
  });

  it('a host 2 s behind is warned about too', async () => {
    const { logger, output } = capturedLogger('info');
    const skew = await checkClockSkew(redis, logger, () => Date.now() - 2_000);
    expect(skew).toBeLessThan(-1_500);
    expect(output()).toMatch(/"skewMs":-\d{4}/);
  });
});

/**
 * Checklist 77: the process that queues a timer has a clock 90 s ahead of the worker's. It
 * computes the job's delay on its clock, so the job arrives early; the worker holds it back
 * until the row's due time by its own clock (within EARLY_TOLERANCE_MS).
 */
describe('a producer 90 s ahead of the worker', () => {
  const getDb = useTestDb(drivers.find((d) => d.name === 'pg')!, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let p: Pipeline;
  beforeAll(async () => {
    p = await startPipeline(getDb());
  }, 60_000);
  afterAll(async () => p?.close());

  it('a timer due in 5 s is queued as due now, yet fires at its time, once', async () => {
    // The reconciler's pass at start-up would queue the row itself, on the worker's clock
    // (a race the full suite's load once lost): let it finish first; the next is a minute away.
    await waitFor(async () => (await p.queues.maintenance.getCompletedCount()) > 0, 30_000);
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name) VALUES ('Men in Sheds') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '1 day', now() + interval '1 day 1 hour' FROM a RETURNING id`,
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'lead_summary',
      sessionId: rows[0]!.id,
      dueAt: new Date(Date.now() + 5_000),
    });
    const ahead = () => new Date(Date.now() + 90_000);
    await createSink(
      getDb(),
      p.queues,
      logs.logger,
      ahead,
    )({
      sends: [],
      items: [item],
      cancelledJobs: [],
      handoffs: [],
    });
    // On the producer's clock it is overdue: no delay at all.
    const job = await p.queues.nudges.getJob(item.jobId);
    expect(job?.delay).toBe(0);
    const fired = async () =>
      (
        await getDb().query<{ early: number }>(
          `SELECT extract(epoch FROM s.due_at - s.fired_at)::float * 1000 AS early
           FROM scheduled_items s WHERE s.id = $1 AND s.state = 'fired'`,
          [item.id],
        )
      ).rows[0];
    await waitFor(async () => (await fired()) !== undefined, 30_000);
    expect((await fired())!.early).toBeLessThanOrEqual(EARLY_TOLERANCE_MS);
    const audits = await getDb().query(
      "SELECT 1 FROM audit_events WHERE kind = 'lead_summary_due' AND detail->>'item' = $1",
      [item.id],
    );
    expect(audits.rowCount).toBe(1);
  }, 60_000);
});
