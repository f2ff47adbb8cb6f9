import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { Service } from '../main.js';
import type { SandboxRuntime } from '../sandbox/page/index.js';
import type { ServeOptions } from '../serve.js';

/**
 * The service as `linkline serve` runs it: in sandbox mode with the movable clock, the demo
 * seed and the page at / (src/sandbox/page); in production mode without any of them.
 */
export async function composeServe(
  config: Config,
  logger: Logger,
): Promise<{ service: Service; sandbox: SandboxRuntime | null; options: ServeOptions }> {
  const { buildService } = await import('../main.js');
  const { registerRoutes } = await import('../http/routes.js');
  const page = config.mode === 'sandbox' ? await import('../sandbox/page/index.js') : null;
  const clock = page?.createSandboxClock() ?? null;
  const service = await buildService(config, logger, clock ? { now: clock.now } : {});
  let sandbox: SandboxRuntime | null = null;
  try {
    sandbox = page && clock ? await page.startSandbox(service, clock, logger) : null;
  } catch (err) {
    await service.close();
    throw err;
  }
  const options: ServeOptions = {
    extraChecks: { db: async () => void (await service.db.query('SELECT 1')) },
    register: (app) => {
      registerRoutes(app, service, logger);
      sandbox?.register(app);
    },
    onClose: async () => {
      await sandbox?.close();
      await service.close();
    },
  };
  return { service, sandbox, options };
}

/** `linkline serve`: the HTTP server and (unless WORKERS=off) the workers, until SIGTERM. */
export async function runService(config: Config, logger: Logger): Promise<number> {
  const { serve } = await import('../serve.js');
  const { options } = await composeServe(config, logger);
  return serve(config, logger, options);
}

/** `linkline worker`: queue workers only (scale out by running more of these). */
export async function runWorker(config: Config, logger: Logger): Promise<number> {
  const { buildService } = await import('../main.js');
  const { waitForSignal, SHUTDOWN_GRACE_MS } = await import('../serve.js');
  const service = await buildService({ ...config, workers: true }, logger, { slackSocket: false });
  // Listen for the signal before saying we run: a SIGTERM right after the line must drain.
  const signalled = waitForSignal(logger);
  logger.info({ prefix: config.queuePrefix }, 'linkline worker running');
  await signalled;
  const force = setTimeout(() => process.exit(1), SHUTDOWN_GRACE_MS);
  force.unref();
  await service.close();
  return 0;
}

/** `linkline db migrate`: apply the migrations and exit. */
export async function runMigrate(config: Config, logger: Logger): Promise<number> {
  const { dbOptionsOf, openDb } = await import('../store/db.js');
  const { migrate } = await import('../store/migrate.js');
  const db = await openDb(dbOptionsOf(config.db));
  try {
    const { applied } = await migrate(db);
    logger.info({ applied }, 'migrations applied');
    return 0;
  } finally {
    await db.close();
  }
}
