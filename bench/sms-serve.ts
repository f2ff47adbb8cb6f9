/**
 * Linkline's HTTP service for the SMS benchmark: the composition `linkline serve` runs in
 * production mode (buildService, then the Fastify server with every route) with WORKERS=off,
 * as behind a load balancer with `linkline worker` processes beside it. `linkline serve`
 * itself is not used because, without Twilio and Slack credentials, it adds the sandbox page,
 * its movable clock and its demo seed. Configured by the usual environment variables.
 */
import { loadConfig } from '../src/config/load.js';
import { registerRoutes } from '../src/http/routes.js';
import { createLogger } from '../src/log.js';
import { buildService } from '../src/main.js';
import { start, waitForSignal } from '../src/serve.js';

const config = loadConfig({ ...process.env, WORKERS: 'off' });
const logger = createLogger({ level: config.log.level });
const service = await buildService(config, logger);
const running = await start(config, logger, {
  extraChecks: { db: async () => void (await service.db.query('SELECT 1')) },
  register: (app) => registerRoutes(app, service, logger),
  onClose: () => service.close(),
});
const signalled = waitForSignal(logger);
process.stdout.write('bench http ready\n');
await signalled;
await running.close();
process.exit(0);
