import Fastify from 'fastify';
import type { Logger } from '../log.js';
import type { App } from './app.js';
import { DEFAULT_CHECK_TIMEOUT_MS, type ReadinessCheck, registerHealthRoutes } from './health.js';
import { RequestLog } from './request-log.js';

export type { App } from './app.js';
export type { ReadinessCheck } from './health.js';

export type BuildServerOptions = {
  logger: Logger;
  /** Readiness checks by name, e.g. `{ redis, db }`; each must settle within the timeout. */
  checks: Readonly<Record<string, ReadinessCheck>>;
  /** Per-check timeout for `/readyz`; 2 s unless a test wants it shorter. */
  checkTimeoutMs?: number;
};

/**
 * The HTTP app with health routes and nothing else: webhooks and the admin API register
 * their routes on the returned instance. It does not listen; `serve` does, tests `inject()`.
 */
export function buildServer({
  logger,
  checks,
  checkTimeoutMs = DEFAULT_CHECK_TIMEOUT_MS,
}: BuildServerOptions): App {
  const app = Fastify({
    loggerInstance: logger,
    logController: new RequestLog(),
    return503OnClosing: true,
  });

  closeKeepAliveWhileClosing(app);
  registerHealthRoutes(app, checks, checkTimeoutMs);
  return app;
}

/**
 * `app.close()` waits for in-flight requests, but a keep-alive connection that carried one
 * would then idle until its timeout (72 s) and hold the shutdown up. Responses sent while
 * closing therefore ask the client to close the connection.
 */
function closeKeepAliveWhileClosing(app: App): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}
