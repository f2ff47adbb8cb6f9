import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { buildService, type Service } from '../src/main.js';
import { ANALYZE_EVERY_MS, ANALYZE_JOB } from '../src/store/stats-keeper.js';
import { capturedLogger } from './support/log-capture.js';
import { waitFor } from './support/pipeline.js';

/**
 * The statistics keeper as `linkline serve` wires it, on the embedded PGlite (no autovacuum
 * ever runs there; test/store/stats-keeper.test.ts shows what a stale plan costs and what
 * `analyzeChanged` does): the workers upsert the `analyze` Job Scheduler at start, and an
 * `analyze` job on the maintenance queue brings a grown table's statistics up to date.
 */
describe('the `analyze` maintenance job as `linkline serve` wires it (embedded database)', () => {
  const capture = capturedLogger('trace');
  let dir: string;
  let service: Service;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'linkline-analyze-'));
    const config = loadConfig({
      PORT: String(21_000 + Math.floor(Math.random() * 4000)),
      HOST: '127.0.0.1',
      DATA_DIR: dir,
      QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
      SMS_RATE: '0',
      SMS_INBOUND_SWEEP_SECONDS: '0',
      LOG_LEVEL: 'trace',
    });
    service = await buildService(config, capture.logger);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      Object.values(service.queues).map((q) =>
        q.obliterate({ force: true }).catch(() => undefined),
      ),
    );
    await service.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('says at start that it keeps the statistics itself, and schedules `analyze` every 5 s', async () => {
    expect(capture.output()).toContain(
      'no autovacuum on this database: the workers keep its statistics fresh',
    );
    const scheduler = await service.queues.maintenance.getJobScheduler(ANALYZE_JOB);
    expect(scheduler?.every).toBe(ANALYZE_EVERY_MS);
  });

  it('an `analyze` job run by the workers analyses a table that grew since its last ANALYZE', async () => {
    const { db } = service;
    const tuples = async () =>
      (
        await db.query<{ n: number }>(
          "SELECT reltuples AS n FROM pg_class WHERE relname = 'participants' AND relnamespace = current_schema()::regnamespace",
        )
      ).rows[0]!.n;
    await db.exec('ANALYZE participants');
    expect(await tuples()).toBe(0);
    await db.exec(`INSERT INTO participants (ref, phone)
      SELECT 'P-AN' || lpad(g::text, 5, '0'), '+4477009' || lpad(g::text, 5, '0') FROM generate_series(1, 3000) g`);
    expect(await tuples()).toBe(0);
    await service.queues.maintenance.add(ANALYZE_JOB, {}, { removeOnComplete: true });
    await waitFor(async () => (await tuples()) === 3000, 15_000);
    expect(capture.output()).toContain('"tables":["participants"');
  });
});
