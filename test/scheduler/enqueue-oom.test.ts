/**
 * Checklist 71 at the sink: Redis full (a private redis-server with a tiny `maxmemory` and
 * `noeviction`, filled) refuses the after-commit enqueue of a reply and of a timer with OOM.
 * The failure is surfaced (a warn log with `alert: enqueue_failed` and
 * `linkline_enqueue_failures_total` on /metrics), the durable rows stay in PostgreSQL, and
 * once Redis has room the reconciler queues them and the reply is sent once.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { noEffects } from '../../src/runner/effects.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import {
  closeQueues,
  createQueues,
  enqueueFailureCount,
  type Queues,
} from '../../src/scheduler/queues.js';
import { reconcile } from '../../src/scheduler/reconciler.js';
import { createSink, sendJobId } from '../../src/scheduler/sink.js';
import { startWorkers } from '../../src/scheduler/workers.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { MemoryGateway, useLogWatch, waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('checklist 71: the sink after commit with Redis at maxmemory (noeviction)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  const log = capturedLogger('info');
  const prefix = `lloom-${process.pid}`;
  let child: ChildProcess;
  let redis: Redis;
  let queues: Queues;
  let runner: Runner;
  let fillers = 0;

  beforeAll(async () => {
    const port = 19_600 + Math.floor(Math.random() * 300);
    child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--dir',
        mkdtempSync(join(tmpdir(), 'll-redis-oom-')),
        '--maxmemory',
        '4mb',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    await waitFor(async () => (await redis.ping().catch(() => '')) === 'PONG', 10_000);
    queues = createQueues(redis, prefix);
    await Promise.all(Object.values(queues).map((q) => q.waitUntilReady()));
    const catalog = await loadCheckedCatalog('flows', 'locales');
    runner = createRunner({
      db: getDb(),
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now: () => new Date(),
      sink: createSink(getDb(), queues, log.logger),
    });
  });
  afterAll(async () => {
    await closeQueues(queues);
    redis.disconnect();
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid!, 'SIGTERM');
    await exited;
  });

  /** Fills Redis with 16 KiB strings until it refuses a write with OOM. */
  async function fill(): Promise<void> {
    const chunk = 'x'.repeat(16 * 1024);
    for (;;) {
      const refused = await redis.set(`filler:${fillers}`, chunk).then(
        () => null,
        (e: Error) => e,
      );
      if (refused) {
        expect(refused.message).toMatch(/^OOM/);
        return;
      }
      fillers += 1;
      expect(fillers).toBeLessThan(10_000);
    }
  }

  const scrape = async () => {
    const app = buildServer({ logger: logs.logger, checks: {} });
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      enqueueFailures: () => enqueueFailureCount(redis, prefix),
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    await app.close();
    const m = /^linkline_enqueue_failures_total (\d+)$/m.exec(res.body);
    expect(m, res.body).not.toBeNull();
    return Number(m![1]);
  };

  const alerts = () =>
    log
      .output()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.alert === 'enqueue_failed');

  it('71: a reply and a timer refused with OOM: alert log and counter, rows kept, queued by the reconciler once Redis has room, the reply sent once', async () => {
    expect(await scrape()).toBe(0);
    // A new number texts: the runner commits the reply, then the sink enqueues it.
    const phone = uniquePhone();
    const { rows: session } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, now() + interval '20 hours', now() + interval '21 hours' FROM a RETURNING id`,
    );
    const who = await createParticipant(getDb(), {
      phone: uniquePhone(),
      quietStart: '00:00',
      quietEnd: '00:00',
    });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    const { rows: booking } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [who.id, session[0]!.id],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: who.id,
      bookingId: booking[0]!.id,
      sessionId: session[0]!.id,
      dueAt: new Date(Date.now() + 5 * 60_000),
    });

    await fill();
    await expect(queues.outbound.add('probe', {})).rejects.toThrow(/OOM/);

    const inbound = await acceptInbound(getDb(), {
      sid: `SM${'a'.repeat(32)}`,
      from: phone,
      body: 'hello',
      numMedia: 0,
      segments: 1,
    });
    await runner.handleInbound(inbound.messageId);
    const { rows: replies } = await getDb().query<{ id: string; status: string }>(
      `SELECT m.id, m.status FROM messages m JOIN participants p ON p.id = m.participant_id
       WHERE p.phone = $1 AND m.direction = 'out'`,
      [phone],
    );
    expect(replies).toHaveLength(1);
    expect(replies[0]!.status).toBe('queued');
    const reply = replies[0]!.id;
    expect(await queues.outbound.getJob(sendJobId(reply))).toBeUndefined();

    // The timer's after-commit enqueue (as the admin API's afterCommit hook calls the sink).
    await createSink(getDb(), queues, log.logger)({ ...noEffects(), items: [item] });
    expect(await queues.reminders.getJob(item.jobId)).toBeUndefined();

    // Surfaced: one alert line per failed enqueue, with the OOM reason, no body, no number.
    const raised = alerts();
    expect(raised).toHaveLength(2);
    for (const a of raised) {
      expect(a).toMatchObject({ level: 'warn' });
      expect(String(a.reason)).toMatch(/OOM/);
    }
    expect(log.output()).not.toContain(phone);
    expect(log.output()).not.toContain('hello');
    // Counted while Redis refuses the counter's own write (this process's unwritten count).
    expect(await scrape()).toBe(2);
    expect(await redis.get(`${prefix}:ops:enqueue_failures`)).toBeNull();

    // The durable rows are still there for the reconciler.
    const { rows: timer } = await getDb().query<{ state: string }>(
      'SELECT state FROM scheduled_items WHERE id = $1',
      [item.id],
    );
    expect(timer).toEqual([{ state: 'pending' }]);

    // Room again. The reconciler's pass (its clock past the 10 s it leaves to the sink) queues
    // both and writes the count to Redis, where every process's /metrics reads it.
    const keys = Array.from({ length: fillers }, (_, i) => `filler:${i}`);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
    const counts = await reconcile(
      getDb(),
      redis,
      queues,
      prefix,
      new Date(Date.now() + 11_000),
      logs.logger,
    );
    expect(counts).toMatchObject({ sends: 1, items: 1 });
    expect(await redis.get(`${prefix}:ops:enqueue_failures`)).toBe('2');
    expect(await scrape()).toBe(2);
    expect(await (await queues.reminders.getJob(item.jobId))?.getState()).toBe('delayed');
    expect(await queues.outbound.getJob(sendJobId(reply))).toBeDefined();

    const gateway = new MemoryGateway();
    const workers = await startWorkers({
      db: getDb(),
      redis,
      queues,
      prefix,
      runner,
      gateway,
      logger: logs.logger,
    });
    try {
      await waitFor(() => gateway.to(phone).length === 1, 20_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(gateway.to(phone)).toHaveLength(1);
    } finally {
      await workers.close();
    }
  }, 60_000);
});
