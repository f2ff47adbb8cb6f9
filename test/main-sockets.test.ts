import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { registerRoutes } from '../src/http/routes.js';
import { buildService, type Service } from '../src/main.js';
import { type Running, start } from '../src/serve.js';
import { openDb } from '../src/store/db.js';
import { LeakWatch } from './support/leak-check.js';
import { capturedLogger } from './support/log-capture.js';
import { type OwnRedis, startOwnRedis } from './support/own-redis.js';
import { waitFor } from './support/pipeline.js';

/** Debian's PostgreSQL socket folder (.ci/run starts the cluster that listens there). */
const PG_SOCKET_DIR = '/var/run/postgresql';

/**
 * A co-located PostgreSQL and Redis reached through their Unix sockets (README
 * "Configuration"): cheaper per round trip than loopback TCP. The Redis here listens on its
 * socket only (port 0), so nothing can have gone over TCP.
 */
describe('the service over Unix sockets (DATABASE_URL ?host=/dir, REDIS_URL unix://)', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const databaseUrl = `postgres:///test?host=${PG_SOCKET_DIR}&user=postgres`;
  const capture = capturedLogger('trace');
  const leaks = new LeakWatch();
  let redis: OwnRedis;
  let service: Service;
  let running: Running;

  beforeAll(async () => {
    expect(existsSync(`${PG_SOCKET_DIR}/.s.PGSQL.5432`)).toBe(true);
    redis = await startOwnRedis({ socketOnly: true });
    const bootstrap = await openDb({ databaseUrl, schema });
    await bootstrap.close();
    const config = loadConfig({
      PORT: String(21_000 + Math.floor(Math.random() * 4000)),
      HOST: '127.0.0.1',
      DATABASE_URL: `${databaseUrl}&options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      REDIS_URL: redis.url,
      QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
      SMS_RATE: '0',
      SMS_INBOUND_SWEEP_SECONDS: '0',
      LOG_LEVEL: 'trace',
    });
    expect(config.redis.url).toMatch(/^unix:\/\/\/.+redis\.sock$/);
    service = await buildService(config, capture.logger);
    running = await start(config, capture.logger, {
      register: (app) => registerRoutes(app, service, capture.logger),
      onClose: () => service.close(),
    });
  }, 60_000);

  afterAll(async () => {
    await service?.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await running?.close();
    await redis?.stop();
    leaks.assertClean(capture.output(), 'the service over Unix sockets');
  });

  it('a new number texts in and the intake answers: the webhook, queues, workers and database all work', async () => {
    const { rows } = await service.db.query<{ tcp: string | null }>(
      'SELECT inet_server_addr()::text AS tcp',
    );
    expect(rows[0]!.tcp).toBeNull(); // a Unix-socket connection has no server address
    const fake = service.twilioFake!;
    const from = '+447700900781';
    leaks.phone(from);
    const delivery = await fake.sendInbound({ from, to: '+447700900000', body: 'hello' });
    expect(delivery.status).toBe(200);
    await waitFor(() => fake.messages().some((m) => m.to === from));
    expect(fake.messages().find((m) => m.to === from)?.body).toMatch(/this is Linkline/);
    const stored = await service.db.query<{ direction: string }>(
      `SELECT m.direction FROM messages m JOIN participants p ON p.id = m.participant_id
       WHERE p.phone = $1 ORDER BY m.seq`,
      [from],
    );
    expect(stored.rows.map((r) => r.direction)).toEqual(['in', 'out']);
  });
});
