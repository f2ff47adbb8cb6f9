import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  processors,
  RETENTION_AT,
  RETENTION_JOB,
  startWorkers,
} from '../../src/scheduler/workers.js';
import { drivers, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, useLogWatch } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/**
 * Checklist 79, the part that applies: the only BullMQ Job Scheduler is the every-minute
 * reconciler. Reminders are not cron schedules: each is a `scheduled_items` row whose local
 * time is computed with luxon in the participant's zone (DST covered in test/domain).
 */
describe('the reconcile Job Scheduler', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let p: Pipeline;
  const extra: { close: () => Promise<void> }[] = [];
  beforeAll(async () => {
    p = await startPipeline(getDb());
  }, 60_000);
  afterAll(async () => {
    for (const w of extra) await w.close();
    await p.close();
  });

  it('upserted by every process start (three deploys here) stays one scheduler, every minute', async () => {
    for (let i = 0; i < 3; i++)
      extra.push(
        await startWorkers({
          db: getDb(),
          redis: p.redis,
          queues: p.queues,
          prefix: p.prefix,
          runner: p.runner,
          gateway: p.gateway,
          logger: logs.logger,
        }),
      );
    expect(await p.queues.maintenance.getJobSchedulersCount()).toBe(1);
    const [scheduler] = await p.queues.maintenance.getJobSchedulers();
    expect(scheduler?.key).toBe('reconcile');
    expect(Number(scheduler?.every)).toBe(60_000);
    // One upcoming run, not one per start.
    const delayed = await p.queues.maintenance.getDelayed();
    const waiting = await p.queues.maintenance.getWaiting();
    expect(delayed.length + waiting.length).toBeLessThanOrEqual(1);
  });

  it('89: the retention job is one nightly scheduler in the service zone, run on the maintenance queue', async () => {
    let runs = 0;
    const deps = {
      db: getDb(),
      redis: p.redis,
      queues: p.queues,
      prefix: p.prefix,
      runner: p.runner,
      gateway: p.gateway,
      logger: logs.logger,
      retention: { run: async () => void runs++, tz: 'Europe/London' },
    };
    // Two processes start: still one scheduler.
    extra.push(await startWorkers(deps), await startWorkers(deps));
    const scheduler = await p.queues.maintenance.getJobScheduler(RETENTION_JOB);
    expect(scheduler).toMatchObject({ pattern: RETENTION_AT, tz: 'Europe/London' });
    expect(
      (await p.queues.maintenance.getJobSchedulers()).filter((j) => j.key === RETENTION_JOB),
    ).toHaveLength(1);
    // A run of it on the maintenance queue is the retention job's.
    await processors(deps).maintenance({ name: RETENTION_JOB, data: {} } as Job);
    expect(runs).toBe(1);
    // A process started without it (an older deploy's settings) removes the scheduler.
    const { retention: _, ...without } = deps;
    extra.push(await startWorkers(without));
    expect(await p.queues.maintenance.getJobScheduler(RETENTION_JOB)).toBeUndefined();
  });
});
