/**
 * Checklist 70 on Redis servers of the test's own: the start-up check where CONFIG is
 * forbidden (managed Redis; simulated with `--rename-command CONFIG ""`, which disables it) reads INFO instead
 * and still refuses an evicting policy, warns with a stable alert when it cannot tell, and
 * `/metrics` shows `linkline_redis_persistence_off` for a Redis without an AOF.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { registerMetrics } from '../src/http/metrics.js';
import { buildServer } from '../src/http/server.js';
import {
  checkRedisSettings,
  RedisStartupError,
  readRedisSettings,
  redisPersistenceOff,
} from '../src/redis.js';
import { capturedLogger } from './support/log-capture.js';
import { quietLogger } from './support/pipeline.js';

interface Private {
  redis: Redis;
  stop(): Promise<void>;
}

const started: Private[] = [];

/** A redis-server on its own port with these extra arguments; stopped by its pid after each test. */
async function privateRedis(extra: string[]): Promise<Private> {
  const port = 18_500 + Math.floor(Math.random() * 1000);
  const dir = mkdtempSync(join(tmpdir(), 'll-redis-settings-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, ...extra],
    { stdio: 'ignore' },
  );
  // No ready check: ioredis runs INFO for it, which one of these servers refuses.
  const redis = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    enableReadyCheck: false,
  });
  redis.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await redis.connect();
      await redis.ping();
      break;
    } catch (err) {
      redis.disconnect();
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const p: Private = {
    redis,
    stop: async () => {
      redis.disconnect();
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid!, 'SIGTERM');
      await exited;
    },
  };
  started.push(p);
  return p;
}

// An empty new name disables the command, as managed Redis services do.
const NO_CONFIG = ['--rename-command', 'CONFIG', ''];

const lines = (out: string) =>
  out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('checklist 70: Redis settings where CONFIG is forbidden', () => {
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.stop()));
  });

  it('70: CONFIG refused: an allkeys-lru Redis is still refused, read from INFO memory', async () => {
    const { redis } = await privateRedis([...NO_CONFIG, '--maxmemory-policy', 'allkeys-lru']);
    await expect(redis.call('CONFIG', 'GET', 'maxmemory-policy')).rejects.toThrow(
      /unknown command/i,
    );
    expect(await readRedisSettings(redis)).toEqual({
      policy: 'allkeys-lru',
      appendonly: false,
      source: 'info',
    });
    const err = await checkRedisSettings(redis, quietLogger).catch((e: Error) => e);
    expect(err).toBeInstanceOf(RedisStartupError);
    expect((err as Error).message).toMatch(/maxmemory-policy is allkeys-lru.*noeviction/);
  });

  it('70: CONFIG refused: noeviction without an AOF starts, warns with alert redis_persistence_off, and /metrics shows 1', async () => {
    const { redis } = await privateRedis([
      ...NO_CONFIG,
      '--maxmemory-policy',
      'noeviction',
      '--appendonly',
      'no',
    ]);
    const log = capturedLogger('info');
    await checkRedisSettings(redis, log.logger);
    const out = lines(log.output());
    expect(out.find((l) => /settings read from INFO/.test(String(l.msg)))).toBeDefined();
    const warn = out.filter((l) => l.alert === 'redis_persistence_off');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ level: 'warn', source: 'info' });
    expect(out.some((l) => l.alert === 'redis_settings_unknown')).toBe(false);

    const app = buildServer({ logger: quietLogger, checks: {} });
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      redisPersistenceOff: () => redisPersistenceOff(redis),
    });
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/^# TYPE linkline_redis_persistence_off gauge$/m);
    expect(res.body).toMatch(/^linkline_redis_persistence_off 1$/m);
    await app.close();
  });

  it('70: CONFIG refused: with an AOF there is no warning and the figure is 0', async () => {
    const { redis } = await privateRedis([
      ...NO_CONFIG,
      '--maxmemory-policy',
      'noeviction',
      '--appendonly',
      'yes',
    ]);
    const log = capturedLogger('info');
    await checkRedisSettings(redis, log.logger);
    expect(lines(log.output()).filter((l) => l.level === 'warn')).toEqual([]);
    expect(await redisPersistenceOff(redis)).toBe(0);
  });

  it('70: CONFIG and INFO both refused: starts with a clear warning (alert redis_settings_unknown), no figure', async () => {
    const { redis } = await privateRedis([...NO_CONFIG, '--rename-command', 'INFO', '']);
    const log = capturedLogger('info');
    await checkRedisSettings(redis, log.logger);
    const warn = lines(log.output()).filter((l) => l.alert === 'redis_settings_unknown');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ level: 'warn', source: 'none' });
    expect(String(warn[0]!.msg)).toMatch(/maxmemory-policy.*noeviction/);
    expect(await redisPersistenceOff(redis)).toBeNull();
  });

  it('70: CONFIG allowed: the same settings are read by CONFIG GET', async () => {
    const { redis } = await privateRedis(['--maxmemory-policy', 'volatile-lru']);
    expect(await readRedisSettings(redis)).toEqual({
      policy: 'volatile-lru',
      appendonly: false,
      source: 'config',
    });
    await expect(checkRedisSettings(redis, quietLogger)).rejects.toThrow(RedisStartupError);
  });
});
