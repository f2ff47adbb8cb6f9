import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshSchema, type Linkline, linkline } from '../support/chaos/spawn.js';
import { type OwnRedis, startOwnRedis } from '../support/own-redis.js';

/** Checklist 70: a Redis that could evict or forget queued reminders, at start-up. */
describe('start-up against a misconfigured Redis', () => {
  let redis: OwnRedis;
  let pg: Awaited<ReturnType<typeof freshSchema>>;
  const running: Linkline[] = [];
  const env = () => ({
    DATABASE_URL: pg.databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `llstart-${randomBytes(4).toString('hex')}`,
    PORT: String(24_000 + Math.floor(Math.random() * 3000)),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  });

  beforeAll(async () => {
    redis = await startOwnRedis();
    pg = await freshSchema();
  }, 60_000);
  afterAll(async () => {
    for (const l of running) if (l.child.exitCode === null) l.child.kill('SIGKILL');
    await redis.stop();
    await pg.drop();
  });

  it.each(['worker', 'serve'])(
    '`linkline %s` refuses maxmemory-policy allkeys-lru: exit 1, says why, starts no worker',
    async (command) => {
      const admin = new Redis(redis.url);
      await admin.config('SET', 'maxmemory-policy', 'allkeys-lru');
      try {
        const e = env();
        const l = linkline(command, e);
        running.push(l);
        expect(await l.exited).toBe(1);
        expect(l.output()).toMatch(/maxmemory-policy is allkeys-lru; set it to noeviction/);
        expect(l.output()).not.toMatch(/linkline (worker running|listening)/);
        // Refused before any worker or queue touched Redis.
        expect(await admin.keys(`${e.QUEUE_PREFIX}:*`)).toEqual([]);
      } finally {
        await admin.config('SET', 'maxmemory-policy', 'noeviction');
        admin.disconnect();
      }
    },
    60_000,
  );

  it('without an AOF it warns (the reconciler rebuilds from PostgreSQL) and runs; SIGTERM exits 0', async () => {
    const admin = new Redis(redis.url);
    expect(await admin.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    admin.disconnect();
    const l = linkline('worker', env());
    running.push(l);
    await l.waitFor(/linkline worker running/);
    expect(l.output()).toMatch(/Redis appendonly is off/);
    l.child.kill('SIGTERM');
    expect(await l.exited).toBe(0);
  }, 60_000);
});
