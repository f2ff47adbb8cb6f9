import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import { overdueCount } from '../../src/scheduler/reconciler.js';
import { createSink } from '../../src/scheduler/sink.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { signalProgram } from '../support/chaos/procs.js';
import { useLogWatch, waitFor } from '../support/pipeline.js';
import { type Cluster, startCluster } from '../support/workers.js';

/**
 * Checklist 76: a delayed job past due and not active must show. The only worker process is
 * frozen (SIGSTOP) while a timer three minutes overdue sits in its queue; `/metrics` reports
 * it; once the worker runs again the timer fires and the figure goes back to 0.
 */
describe('the overdue-timers watchdog', () => {
  let c: Cluster;
  // Checklist 90: this process's server and sink log at trace, leak-checked.
  const logs = useLogWatch(() => c?.db);
  const app = buildServer({ logger: logs.logger, checks: {} });
  const spawned: ChildProcess[] = [];
  beforeAll(async () => {
    c = await startCluster();
    registerMetrics(app, {
      overdueTimers: () => overdueCount(c.db, new Date()),
      queueDepths: async () => ({}),
    });
  }, 60_000);
  afterAll(async () => {
    await app.close();
    // SIGTERM reaches the worker through tsx (a SIGKILL to tsx would orphan it).
    await Promise.all(
      spawned
        .filter((w) => w.exitCode === null)
        .map((w) => {
          const gone = new Promise((r) => w.once('exit', r));
          w.kill('SIGTERM');
          return gone;
        }),
    );
    await c?.close();
  });

  const overdue = async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    return Number(/^linkline_overdue_timers (\d+)$/m.exec(res.body)?.[1]);
  };

  it('a frozen worker: the figure counts the stuck timer, and clears when the worker resumes', async () => {
    const worker = await c.spawnWorker();
    spawned.push(worker);
    const { rows } = await c.db.query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, lead_phone) VALUES ('Knit and Natter', '+447700900555') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, now() + interval '1 day', now() + interval '1 day 1 hour' FROM a RETURNING id`,
    );
    expect(await overdue()).toBe(0);
    signalProgram(worker, 'SIGSTOP');
    try {
      const { item } = await upsertScheduledItem(c.db, {
        kind: 'lead_summary',
        sessionId: rows[0]!.id,
        dueAt: new Date(Date.now() - 3 * 60_000),
      });
      await createSink(
        c.db,
        c.queues,
        logs.logger,
      )({
        sends: [],
        items: [item],
        cancelledJobs: [],
        handoffs: [],
      });
      // Redis hands the job to the frozen worker's pending blocking pop: it is `active` there
      // but never runs. The figure comes from PostgreSQL (not fired), so it counts it either way.
      const job = await c.queues.nudges.getJob(item.jobId);
      expect(['waiting', 'active']).toContain(await job?.getState());
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await overdue()).toBe(1);
    } finally {
      signalProgram(worker, 'SIGCONT');
    }
    await waitFor(async () => (await overdue()) === 0, 30_000);
    const fired = await c.db.query(
      "SELECT 1 FROM scheduled_items WHERE kind = 'lead_summary' AND state = 'fired'",
    );
    expect(fired.rowCount).toBe(1);
  }, 90_000);
});
