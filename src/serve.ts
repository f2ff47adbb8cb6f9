import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { Config } from './config/schema.js';
import type { App, ReadinessCheck } from './http/server.js';
import { buildServer } from './http/server.js';
import type { Logger } from './log.js';
import { checkRedisSettings, connectRedis, RedisStartupError, redisReadiness } from './redis.js';

/** Orchestrators usually allow 30 s between SIGTERM and SIGKILL; finish well inside it. */
export const SHUTDOWN_GRACE_MS = 25_000;
const REDIS_STARTUP_TIMEOUT_MS = 10_000;

export type ServeOptions = {
  /** More readiness checks for `/readyz`, e.g. `{ db: () => pool.query('select 1') }`. */
  extraChecks?: Readonly<Record<string, ReadinessCheck>>;
  /** Registers routes (webhooks, admin API) before the server listens. */
  register?: (app: App) => void | Promise<void>;
  /** Runs after the HTTP server has drained: workers, queues and the database close here. */
  onClose?: () => Promise<void>;
};

export type Running = {
  app: App;
  redis: Redis;
  /** Stops accepting, lets in-flight requests finish, then quits Redis. */
  close(): Promise<void>;
};

async function withStartupTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new RedisStartupError(
            `${what} did not answer within ${REDIS_STARTUP_TIMEOUT_MS / 1000} s`,
          ),
        ),
      REDIS_STARTUP_TIMEOUT_MS,
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** QUIT, then wait for the socket to close; a dead connection is simply dropped. */
async function quitRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  const ended = once(redis, 'end');
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
  await ended;
}

/** Connects, checks Redis and listens. No signal handling: `serve` adds that. */
export async function start(
  config: Config,
  logger: Logger,
  options: ServeOptions = {},
): Promise<Running> {
  const redis = connectRedis(config.redis.url, logger);
  try {
    await withStartupTimeout(checkRedisSettings(redis, logger), 'Redis');
  } catch (err) {
    redis.disconnect();
    throw err;
  }
  const app = buildServer({
    logger,
    checks: { redis: redisReadiness(redis), ...options.extraChecks },
  });
  try {
    await options.register?.(app);
    await app.listen({ host: config.http.host, port: config.http.port });
  } catch (err) {
    await app.close();
    await quitRedis(redis);
    throw err;
  }
  logger.info({ mode: config.mode, address: app.addresses() }, 'linkline listening');
  const close = async () => {
    await app.close();
    await options.onClose?.();
    await quitRedis(redis);
  };
  return { app, redis, close };
}

export function waitForSignal(logger: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
      // A second signal while draining means "now": leave at once.
      process.once('SIGTERM', () => process.exit(1)).once('SIGINT', () => process.exit(1));
      logger.info({ signal }, 'shutting down');
      resolve(signal);
    };
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal);
  });
}

/**
 * Runs the service until SIGTERM or SIGINT, then shuts down gracefully and resolves the exit
 * code. If shutdown (or a handle left open) outlasts the grace period, the process exits 1.
 */
export async function serve(
  config: Config,
  logger: Logger,
  options: ServeOptions = {},
): Promise<number> {
  const running = await start(config, logger, options);
  await waitForSignal(logger);
  const force = setTimeout(() => {
    logger.fatal({ graceMs: SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_GRACE_MS);
  // Never keeps the process alive itself; fires only if something else still does.
  force.unref();
  try {
    await running.close();
  } catch (err) {
    logger.error({ err }, 'shutdown failed');
    return 1;
  }
  logger.info('shutdown complete');
  return 0;
}
