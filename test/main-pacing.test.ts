import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { registerRoutes } from '../src/http/routes.js';
import { buildService, pacerKey, type Service } from '../src/main.js';
import { enqueueSends } from '../src/scheduler/sink.js';
import { type Running, start } from '../src/serve.js';
import { TEST_DATABASE_URL } from './store/drivers.js';
import { pickPort } from './support/listen-port.js';
import { useLogWatch, waitFor } from './support/pipeline.js';

const RATE = 5;
const BURST = 40;

describe('the composed service paces its sends (SMS_RATE; checklist 42)', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const port = pickPort();
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
      SMS_RATE: String(RATE),
      LOG_LEVEL: 'trace',
    });
    const { logger } = logs;
    const { openDb } = await import('../src/store/db.js');
    const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await bootstrap.close();
    service = await buildService(config, logger);
    running = await start(config, logger, {
      extraChecks: {},
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
    await service.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await running.close();
  });

  it(`a burst of ${BURST} reminders due at once: each sent once, spread at ${RATE}/s on the shared slot, with a ValidityPeriod`, async () => {
    const db = service.db;
    await db.query(
      `INSERT INTO participants (ref, phone, consent, consent_at)
       SELECT 'P-' || lpad(i::text, 6, '0'), '+447911' || lpad(i::text, 6, '0'), 'given', now()
       FROM generate_series(1, $1::int) AS i`,
      [BURST],
    );
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO messages (direction, channel, status, participant_id, address, body, kind, template_key)
       SELECT 'out', 'sms', 'queued', id, phone, 'See you tomorrow at 10:00 for Walk, the Park.',
         'reminder', 'reminder.same_day' FROM participants WHERE ref LIKE 'P-0%' RETURNING id`,
    );
    expect(rows).toHaveLength(BURST);
    await enqueueSends(
      service.queues,
      rows.map((r) => ({ id: r.id, priority: 0 })),
    );
    const fake = service.twilioFake!;
    await waitFor(() => fake.messages().length >= BURST, 60_000);
    const sent = fake.messages();
    expect(sent).toHaveLength(BURST);
    expect(new Set(sent.map((m) => m.to)).size).toBe(BURST);
    expect(sent.every((m) => m.validityPeriod === 7200)).toBe(true);
    // The sends took their slots on the Redis-shared pacer of this sender...
    const key = pacerKey(service.config.queuePrefix, service.twilioConfig);
    expect(await service.redis.exists(key)).toBe(1);
    // ...so the burst cannot have gone faster than the rate (a lower bound: load only slows it),
    const times = sent.map((m) => m.dateCreated.getTime()).sort((a, b) => a - b);
    expect(times.at(-1)! - times[0]!).toBeGreaterThanOrEqual(((BURST - 1) / RATE) * 1000 * 0.9);
    // ...and no one-second window holds much more than the rate (a generous bound).
    let most = 0;
    for (let i = 0, j = 0; i < times.length; i += 1) {
      while (times[i]! - times[j]! >= 1000) j += 1;
      most = Math.max(most, i - j + 1);
    }
    expect(most).toBeLessThanOrEqual(RATE * 1.5);
  }, 180_000);
});
