import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { buildService, type Service } from '../src/main.js';
import { RETENTION_JOB } from '../src/scheduler/workers.js';
import { openDb } from '../src/store/db.js';
import { TEST_DATABASE_URL } from './store/drivers.js';
import { LeakWatch } from './support/leak-check.js';
import { capturedLogger } from './support/log-capture.js';
import { waitFor } from './support/pipeline.js';

/**
 * Checklist 89, the wiring: the nightly job named `retention` on the maintenance queue,
 * handled by the workers `buildService` starts, really runs `Service.applyRetention` on the
 * service's database (test/store/retention.test.ts tests what a run removes;
 * test/scheduler/job-scheduler.test.ts the schedule, with a stub `run`).
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
});
