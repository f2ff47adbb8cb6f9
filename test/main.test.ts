import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { registerRoutes } from '../src/http/routes.js';
import { buildService, type Service } from '../src/main.js';
import { type Running, start } from '../src/serve.js';
import { TEST_DATABASE_URL } from './store/drivers.js';
import { useLogWatch, waitFor } from './support/pipeline.js';

describe('the service as `linkline serve` composes it (sandbox mode)', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const port = 21_000 + Math.floor(Math.random() * 4000);
  let service: Service;
  // Checklist 90: the service logs at trace into memory, leak-checked after each test.
  const logs = useLogWatch(() => service?.db);
  let running: Running;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
      SMS_RATE: '0',
      LOG_LEVEL: 'trace',
    });
    const { logger } = logs;
    const { openDb } = await import('../src/store/db.js');
    const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await bootstrap.close();
    service = await buildService(config, logger);
    running = await start(config, logger, {
      extraChecks: { db: async () => void (await service.db.query('SELECT 1')) },
      register: (app) => registerRoutes(app, service, logger),
      onClose: () => service.close(),
    });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(
      Object.values(service.queues).map((q) =>
        q.obliterate({ force: true }).catch(() => undefined),
      ),
    );
    const db = service.db;
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await running.close();
  });

  it('is ready, and an unknown number texting in gets the intake back through the local Twilio', async () => {
    const ready = await running.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.json()).toEqual({ status: 'ready', checks: { redis: 'ok', db: 'ok' } });
    const fake = service.twilioFake!;
    const from = '+447700900777';
    const delivery = await fake.sendInbound({ from, to: '+447700900000', body: 'hello' });
    expect(delivery.status).toBe(200);
    await waitFor(() => fake.messages().some((m) => m.to === from));
    expect(fake.messages().find((m) => m.to === from)?.body).toMatch(/this is Linkline/);
    await fake.sendInbound({ from, to: '+447700900000', body: 'STOP' });
    await waitFor(
      async () =>
        (
          await service.db.query('SELECT 1 FROM participants WHERE phone = $1 AND opted_out', [
            from,
          ])
        ).rowCount === 1,
    );
  });

  it('exposes the overdue-timers figure, queue depths, the event-loop delay and pending Twilio deletions', async () => {
    const res = await running.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/^linkline_overdue_timers 0$/m);
    expect(res.body).toMatch(/^linkline_twilio_deletions_pending 0$/m);
    expect(res.body).toMatch(/^linkline_twilio_deletions_stuck 0$/m);
    expect(res.body).toMatch(/linkline_queue_jobs\{queue="inbound"\} \d+/);
    expect(res.body).toMatch(/^linkline_event_loop_delay_p99_seconds \d+\.\d{3}$/m);
    expect(res.body).toMatch(/^linkline_event_loop_delay_max_seconds \d+\.\d{3}$/m);
  });
});
