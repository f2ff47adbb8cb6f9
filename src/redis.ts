import { Redis } from 'ioredis';
import type { Logger } from './log.js';

/**
 * A Redis connection as BullMQ needs it: commands wait through reconnects instead of failing
 * after a few retries. The URL is never logged (it may carry a password).
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
  redis.on('error', (err: NodeJS.ErrnoException) => {
    logger.warn({ code: err.code, reason: err.message }, 'redis connection error');
  });
  return redis;
}

/** Readiness: fails at once while disconnected rather than queueing a PING behind a reconnect. */
export function redisReadiness(redis: Redis): () => Promise<void> {
  return async () => {
    if (redis.status !== 'ready') throw new Error(`redis is ${redis.status}`);
    const pong = await redis.ping();
    if (pong !== 'PONG') throw new Error('unexpected PING reply');
  };
}

/** Redis is unreachable or unsafely configured at startup: refuse to run. */
export class RedisStartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RedisStartupError';
  }
}

async function configGet(redis: Redis, key: string): Promise<string | undefined> {
  const reply = (await redis.call('CONFIG', 'GET', key)) as string[];
  return reply[1];
}

/**
 * Checklist 70: an evicting Redis silently loses delayed jobs (reminders), so refuse to run.
 * Without persistence a Redis restart empties the queues; the reconciler rebuilds them from
 * PostgreSQL, so that is only a warning. Managed Redis may forbid CONFIG: warn and go on.
 */
export async function checkRedisSettings(redis: Redis, logger: Logger): Promise<void> {
  let policy: string | undefined;
  let appendonly: string | undefined;
  try {
    policy = await configGet(redis, 'maxmemory-policy');
    appendonly = await configGet(redis, 'appendonly');
  } catch (err) {
    logger.warn({ err }, 'could not read Redis settings (CONFIG GET); check maxmemory-policy');
    return;
  }
  if (policy !== undefined && policy !== 'noeviction') {
    throw new RedisStartupError(
      `Redis maxmemory-policy is ${policy}; set it to noeviction or queued reminders can be lost`,
    );
  }
  if (appendonly === 'no') {
    logger.warn('Redis appendonly is off: a restart empties the queues until the reconciler runs');
  }
}
