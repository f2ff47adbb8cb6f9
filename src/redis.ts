import { Redis } from 'ioredis';
import type { Logger } from './log.js';

/**
 * What ioredis takes for REDIS_URL: a `unix:///path/to/redis.sock` URL (a co-located Redis
 * through its Unix socket, cheaper per command than loopback TCP) becomes the socket's path,
 * keeping its query (`?db=1`, `?password=...`); a redis:// or rediss:// URL is given as it is.
 */
export function redisAddress(url: string): string {
  if (!url.startsWith('unix:')) return url;
  const parsed = new URL(url);
  return `${decodeURIComponent(parsed.pathname)}${parsed.search}`;
}

/**
 * A Redis connection as BullMQ needs it: commands wait through reconnects instead of failing
 * after a few retries. The URL is never logged (it may carry a password).
 */
export function connectRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(redisAddress(url), { maxRetriesPerRequest: null, lazyConnect: false });
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

/** One INFO section as `field -> value` (INFO answers `field:value` lines). */
async function infoSection(redis: Redis, section: string): Promise<Record<string, string>> {
  const text = (await redis.call('INFO', section)) as string;
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

/** What start-up and /metrics know of Redis's settings, and where it was read. */
export interface RedisSettings {
  /** `maxmemory-policy`, or undefined when neither CONFIG nor INFO told. */
  policy: string | undefined;
  /** Whether the AOF is on, or undefined when neither CONFIG nor INFO told. */
  appendonly: boolean | undefined;
  /** `config`: CONFIG GET; `info`: CONFIG refused (managed Redis), read from INFO; `none`. */
  source: 'config' | 'info' | 'none';
}

/** The persistence figure alone, from INFO persistence (allowed where CONFIG is not). */
async function aofFromInfo(redis: Redis): Promise<boolean | undefined> {
  const aof = (await infoSection(redis, 'persistence')).aof_enabled;
  return aof === undefined ? undefined : aof === '1';
}

/**
 * CONFIG GET first; managed Redis often refuses CONFIG (renamed or not allowed), and then INFO
 * tells the same: `maxmemory_policy` in INFO memory, `aof_enabled` in INFO persistence.
 */
export async function readRedisSettings(redis: Redis): Promise<RedisSettings> {
  try {
    const policy = await configGet(redis, 'maxmemory-policy');
    const appendonly = await configGet(redis, 'appendonly');
    return {
      policy,
      appendonly: appendonly === undefined ? undefined : appendonly === 'yes',
      source: 'config',
    };
  } catch {
    // Refused: fall back to INFO below.
  }
  try {
    const policy = (await infoSection(redis, 'memory')).maxmemory_policy;
    const appendonly = await aofFromInfo(redis).catch(() => undefined);
    if (policy !== undefined || appendonly !== undefined)
      return { policy, appendonly, source: 'info' };
  } catch {
    // INFO refused too.
  }
  return { policy: undefined, appendonly: undefined, source: 'none' };
}

/**
 * `/metrics`' `linkline_redis_persistence_off`: 1 while the AOF is off, 0 while on, null when
 * Redis does not say. Read at each scrape from INFO persistence, so every process shows the
 * one shared Redis as it is now (a later `CONFIG SET appendonly` shows at the next scrape).
 */
export async function redisPersistenceOff(redis: Redis): Promise<number | null> {
  try {
    const aof = await aofFromInfo(redis);
    return aof === undefined ? null : aof ? 0 : 1;
  } catch {
    return null;
  }
}

/**
 * Checklist 70: an evicting Redis silently loses delayed jobs (reminders), so refuse to run.
 * Without persistence a Redis restart empties the queues; the reconciler rebuilds them from
 * PostgreSQL, so that is a warning (`alert: redis_persistence_off`) and the
 * `linkline_redis_persistence_off` figure on /metrics. Managed Redis may forbid CONFIG: the
 * settings are then read from INFO, and refused the same way. When neither tells, start-up
 * goes on with a warning (`alert: redis_settings_unknown`) naming what to check by hand.
 */
export async function checkRedisSettings(redis: Redis, logger: Logger): Promise<void> {
  const { policy, appendonly, source } = await readRedisSettings(redis);
  if (source === 'info')
    logger.info('Redis CONFIG GET refused (managed Redis?): settings read from INFO');
  if (policy === undefined) {
    logger.warn(
      { alert: 'redis_settings_unknown', source },
      'could not read Redis maxmemory-policy (CONFIG GET and INFO refused): make sure it is noeviction',
    );
  } else if (policy !== 'noeviction') {
    throw new RedisStartupError(
      `Redis maxmemory-policy is ${policy}; set it to noeviction or queued reminders can be lost`,
    );
  }
  if (appendonly === false) {
    logger.warn(
      { alert: 'redis_persistence_off', source },
      'Redis appendonly is off: a restart empties the queues until the reconciler runs',
    );
  }
}
