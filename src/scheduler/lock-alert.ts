import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import type { LockWaiter, LockWatch, LongWait } from '../store/participant-lock.js';
import { withTimeout } from './sink.js';

/**
 * Long participant-lock waits (checklist 19), shared by every process through Redis so one
 * `/metrics` shows all workers: a counter of waits that passed the threshold, and the waits
 * over it right now (a sorted set scored by when each began). A process that dies mid-wait
 * leaves its entry behind; entries older than STALE_MS are not counted (a wait ends at the
 * 15 s lock timeout anyway).
 */
const STALE_MS = 60_000;

const keys = (prefix: string) => ({
  alerts: `${prefix}:ops:lock_wait_alerts`,
  waiting: `${prefix}:ops:lock_waiting`,
});

/** The participant's reference (P-XXXX), never their number, for the log line. */
async function refOf(db: Db, who: LockWaiter): Promise<string | null> {
  const { rows } = who.participantId
    ? await db.query<{ ref: string }>('SELECT ref FROM participants WHERE id = $1', [
        who.participantId,
      ])
    : await db.query<{ ref: string }>(
        `SELECT p.ref FROM scheduled_items s JOIN participants p ON p.id = s.participant_id
         WHERE s.id = $1`,
        [who.itemId],
      );
  return rows[0]?.ref ?? null;
}

export interface LockAlertDeps {
  db: Db;
  redis: Redis;
  prefix: string;
  /** LOCK_WAIT_ALERT_MS: a wait this long raises the alert. */
  thresholdMs: number;
  logger: Logger;
}

/** The lock watch buildService installs: a warn log with the reference, and the metric. */
export function createLockAlert(deps: LockAlertDeps): LockWatch {
  const k = keys(deps.prefix);
  const quiet = (err: Error) =>
    deps.logger.warn({ reason: err.message }, 'lock wait metric not recorded');
  return {
    thresholdMs: deps.thresholdMs,
    longWait(who: LockWaiter): LongWait {
      const id = randomUUID();
      const began = Date.now() - deps.thresholdMs;
      deps.redis.multi().incr(k.alerts).zadd(k.waiting, began, id).exec().catch(quiet);
      // Bounded: the pool may be short of connections precisely because work is waiting.
      const ref = withTimeout(refOf(deps.db, who), 1_000).catch(() => null);
      void ref.then((r) =>
        deps.logger.warn(
          { ref: r, item: who.itemId, thresholdMs: deps.thresholdMs },
          'participant lock wait over threshold',
        ),
      );
      return {
        end(waitedMs, acquired) {
          deps.redis.zrem(k.waiting, id).catch(quiet);
          void ref.then((r) =>
            deps.logger.warn(
              { ref: r, item: who.itemId, waitedMs: Math.round(waitedMs), acquired },
              'participant lock wait ended',
            ),
          );
        },
      };
    },
  };
}

export interface LockWaitFigures {
  /** Waits that passed the threshold, ever (a counter). */
  alerts: number;
  /** Waits over the threshold going on now. */
  waiting: number;
  /** How long the longest of those has waited, in seconds (0 when none). */
  longestSeconds: number;
}

export async function lockWaitFigures(redis: Redis, prefix: string): Promise<LockWaitFigures> {
  const k = keys(prefix);
  const now = Date.now();
  await redis.zremrangebyscore(k.waiting, '-inf', now - STALE_MS);
  const [alerts, waiting, oldest] = await Promise.all([
    redis.get(k.alerts),
    redis.zcard(k.waiting),
    redis.zrange(k.waiting, '0', '0', 'WITHSCORES'),
  ]);
  const began = oldest[1] === undefined ? null : Number(oldest[1]);
  return {
    alerts: Number(alerts ?? 0),
    waiting,
    longestSeconds: began === null ? 0 : Math.max(0, (now - began) / 1000),
  };
}
