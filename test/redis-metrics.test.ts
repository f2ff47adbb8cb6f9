/**
 * Checklists 70 and 71 as `linkline serve` wires them (src/http/routes.ts): `/metrics` of the
 * composed service shows Redis's persistence as INFO reports it now, and the failed-enqueue
 * counter every process shares through Redis.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import twilio from 'twilio';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config/load.js';
import { registerRoutes } from '../src/http/routes.js';
import { createLogger } from '../src/log.js';
import { buildService, type Service } from '../src/main.js';
import { inboundParams } from '../src/sandbox/twilio/inbound.js';
import { type Running, start } from '../src/serve.js';
import { TEST_DATABASE_URL } from './store/drivers.js';

describe('/metrics of the composed service: Redis persistence and failed enqueues', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const port = 21_000 + Math.floor(Math.random() * 4000);
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  let service: Service;
  let running: Running;
  let other: Redis;

  beforeAll(async () => {
    const config = loadConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      QUEUE_PREFIX: prefix,
      SMS_RATE: '0',
      LOG_LEVEL: 'silent',
      WORKERS: 'off',
    });
    const logger = createLogger({ level: 'silent' });
    const { openDb } = await import('../src/store/db.js');
    const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await bootstrap.close();
    service = await buildService(config, logger);
    running = await start(config, logger, {
      register: (app) => registerRoutes(app, service, logger),
      onClose: () => service.close(),
    });
    other = new Redis('redis://127.0.0.1:6379');
  }, 60_000);

  afterAll(async () => {
    await other.del(`${prefix}:ops:enqueue_failures`);
    other.disconnect();
    await service.db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await running.close();
  });

  const metrics = async () => (await running.app.inject({ method: 'GET', url: '/metrics' })).body;

  it('70: linkline_redis_persistence_off follows INFO persistence of the shared Redis', async () => {
    const aof = /aof_enabled:(\d)/.exec(await other.info('persistence'))![1];
    expect(await metrics()).toMatch(
      new RegExp(`^linkline_redis_persistence_off ${aof === '1' ? 0 : 1}$`, 'm'),
    );
  });

  it("71: linkline_enqueue_failures_total counts other processes' failures, shared through Redis", async () => {
    expect(await metrics()).toMatch(/^linkline_enqueue_failures_total 0$/m);
    // Another process (a `linkline worker`) wrote its failures to the shared counter.
    await other.incrby(`${prefix}:ops:enqueue_failures`, 3);
    expect(await metrics()).toMatch(/^linkline_enqueue_failures_total 3$/m);
  });

  it("71: the webhook's failed enqueue counts too (still 200, the message kept)", async () => {
    const before = Number(/^linkline_enqueue_failures_total (\d+)$/m.exec(await metrics())![1]);
    const add = vi
      .spyOn(service.queues.inbound, 'add')
      .mockRejectedValue(new Error('OOM command not allowed when used memory > maxmemory'));
    try {
      const url = `${service.config.http.publicUrl}/sms/inbound`;
      const params = inboundParams(
        { from: '+447700900777', to: '+447700900100', body: 'hello' },
        `AC${'d4'.repeat(16)}`,
        `SM${randomBytes(16).toString('hex')}`,
      );
      const res = await running.app.inject({
        method: 'POST',
        url: '/sms/inbound',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilio.getExpectedTwilioSignature(
            service.twilioConfig.authToken,
            url,
            params,
          ),
        },
        payload: new URLSearchParams(params).toString(),
      });
      expect(res.statusCode).toBe(200);
      expect(add).toHaveBeenCalledTimes(1);
    } finally {
      add.mockRestore();
    }
    const { rows } = await service.db.query("SELECT id FROM messages WHERE direction = 'in'");
    expect(rows).toHaveLength(1);
    expect(await metrics()).toMatch(
      new RegExp(`^linkline_enqueue_failures_total ${before + 1}$`, 'm'),
    );
  });
});
