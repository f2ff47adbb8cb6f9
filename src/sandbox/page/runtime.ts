/**
 * Sandbox mode's extras around the real service: the demo seed, the Slack fake the page
 * shows (the Slack app's own local Slack),
 * and the page with its /sandbox API. Production mode never calls this.
 */
import { jobEffects } from '../../domain/booking/changes.js';
import type { App } from '../../http/app.js';
import type { Logger } from '../../log.js';
import { SANDBOX_TWILIO, type Service } from '../../main.js';
import { noEffects } from '../../runner/effects.js';
import { createSink } from '../../scheduler/sink.js';
import type { SlackFake } from '../slack/index.js';
import { loadAssets } from './assets.js';
import type { SandboxClock } from './clock.js';
import { registerSandboxRoutes } from './routes.js';
import { seedDemo } from './seed.js';

export interface SandboxRuntime {
  readonly clock: SandboxClock;
  readonly slackFake: SlackFake | null;
  register(app: App): void;
  close(): Promise<void>;
}

export async function startSandbox(
  service: Service,
  clock: SandboxClock,
  logger: Logger,
): Promise<SandboxRuntime> {
  const { config } = service;
  if (config.mode !== 'sandbox') throw new Error('the sandbox page exists only in sandbox mode');
  const sink = createSink(service.db, service.queues, logger, clock.now);
  const summary = await seedDemo(service.db, {
    now: clock.now(),
    tz: config.defaults.tz,
    afterCommit: [(changes) => sink({ ...noEffects(), ...jobEffects(changes) })],
    policy: config.planPolicy,
  });
  logger.info(
    { activities: summary.activities, sessions: summary.sessions },
    'sandbox demo seeded',
  );
  // The Slack app's in-process local Slack (null when SLACK_API_URL names a running one).
  const slackFake = service.slackFake;
  const assets = await loadAssets();
  return {
    clock,
    slackFake,
    register: (app) =>
      registerSandboxRoutes(app, {
        db: service.db,
        queues: service.queues,
        clock,
        tz: config.defaults.tz,
        twilioFake: service.twilioFake,
        ourNumber: service.twilioConfig.from ?? SANDBOX_TWILIO.from!,
        slackFake,
        assets,
      }),
    close: async () => undefined,
  };
}
