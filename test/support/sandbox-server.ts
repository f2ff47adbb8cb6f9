import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { composeServe } from '../../src/cli/run-service.js';
import { loadConfig } from '../../src/config/load.js';
import type { Service } from '../../src/main.js';
import type { SandboxRuntime } from '../../src/sandbox/page/index.js';
import { type Running, start } from '../../src/serve.js';
import { type Db, openDb } from '../../src/store/db.js';
import { TEST_DATABASE_URL } from '../store/drivers.js';
import { withFreePort } from './listen-port.js';
import { type LogWatch, watchLogs } from './pipeline.js';

/** A port nobody listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A test service's own settings: its port and URL, its schema, its queue prefix, no pacing. */
export function serviceEnv(port: number, schema: string): Record<string, string> {
  return {
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
    SMS_RATE: '0',
  };
}

export interface RunningService {
  url: string;
  service: Service;
  sandbox: SandboxRuntime | null;
  running: Running;
  /**
   * Checklist 90: the service logs at trace into memory; after each test of the file and at
   * `stop()` the log must hold no number or SMS body of its database (`watchLogs`).
   */
  logs: Pick<LogWatch, 'logger' | 'leaks' | 'logs' | 'checkLogs'>;
  stop(): Promise<void>;
}

/**
 * `linkline serve` as composeServe builds it, listening on a free port, on its own
 * PostgreSQL schema and queue prefix. `env` adds variables (production credentials).
 */
export async function startService(env: Record<string, string> = {}): Promise<RunningService> {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
  await bootstrap.close();
  let db: Db | undefined;
  const watch = watchLogs(() => db);
  const { logger } = watch;
  const { port, service, sandbox, running } = await withFreePort(async (port) => {
    const config = loadConfig({ ...serviceEnv(port, schema), LOG_LEVEL: 'trace', ...env });
    const composed = await composeServe(config, logger);
    try {
      return { port, ...composed, running: await start(config, logger, composed.options) };
    } catch (err) {
      await composed.service.close();
      throw err;
    }
  });
  db = service.db;
  return {
    url: `http://127.0.0.1:${port}`,
    service,
    sandbox,
    running,
    logs: watch,
    stop: async () => {
      await Promise.all(
        Object.values(service.queues).map((q) =>
          q.obliterate({ force: true }).catch(() => undefined),
        ),
      );
      // Drained first: a schema dropped under running workers can deadlock with them.
      await running.close();
      const admin = await openDb({ databaseUrl: TEST_DATABASE_URL });
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.close());
      await watch.done();
    },
  };
}
