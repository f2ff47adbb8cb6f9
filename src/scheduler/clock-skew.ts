import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

/** Above this difference between our clock and Redis's, start-up warns (checklist 77). */
export const CLOCK_SKEW_WARN_MS = 1_000;

/**
 * Compares this host's clock with Redis `TIME` (the mid-point of the round trip) and warns
 * above one second. BullMQ decides when a delayed job is due from the clock of the process
 * that adds it and of the worker that promotes it, so a host whose clock drifts sends
 * reminders early or late by the drift. Returns the skew in ms (positive: we are ahead).
 */
export async function checkClockSkew(
  redis: Redis,
  logger: Logger,
  now: () => number = Date.now,
): Promise<number> {
  const before = now();
  const [seconds, micros] = await redis.time();
  const after = now();
  const redisMs = Number(seconds) * 1000 + Number(micros) / 1000;
  const skewMs = Math.round((before + after) / 2 - redisMs);
  if (Math.abs(skewMs) > CLOCK_SKEW_WARN_MS) {
    logger.warn(
      { skewMs, limitMs: CLOCK_SKEW_WARN_MS },
      'this host clock differs from Redis TIME: reminders will fire early or late by as much; check NTP',
    );
  }
  return skewMs;
}
