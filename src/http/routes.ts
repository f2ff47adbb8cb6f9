import { sessionNotices } from '../channels/leads/session-change.js';
import { jobEffects } from '../domain/booking/changes.js';
import type { Logger } from '../log.js';
import type { Service } from '../main.js';
import { STUCK_AFTER } from '../privacy/twilio-erase.js';
import { redisPersistenceOff } from '../redis.js';
import { noEffects } from '../runner/effects.js';
import { expiredSendCounts } from '../runner/expired-sends.js';
import { triggerFlow } from '../runner/triggers.js';
import { lockWaitFigures } from '../scheduler/lock-alert.js';
import { countEnqueueFailure, enqueueFailureCount } from '../scheduler/queues.js';
import { inboundJob, inboundLeadJob, overdueCount } from '../scheduler/reconciler.js';
import { createSink } from '../scheduler/sink.js';
import { twilioDeletionFigures } from '../store/repos/erasure-twilio.js';
import { registerAdminRoutes } from './admin/index.js';
import { registerMetrics } from './metrics.js';
import type { App } from './server.js';
import { registerSlackRoutes } from './slack/routes.js';
import { registerSmsRoutes } from './sms/routes.js';

/** Every HTTP route of the service: provider webhooks and the admin API. */
export function registerRoutes(app: App, service: Service, logger: Logger): void {
  // The service's clock (in sandbox mode the movable one), as the workers' sink and runner use.
  const sink = createSink(service.db, service.queues, logger, service.now);
  registerSmsRoutes(app, {
    db: service.db,
    publicUrl: service.config.http.publicUrl,
    authTokens: [service.twilioConfig.authToken],
    enqueueInbound: async (messageId: string) => {
      const job = inboundJob(messageId);
      await service.queues.inbound.add(job.name, job.data, job.opts);
    },
    enqueueLead: async (messageId: string) => {
      const job = inboundLeadJob(messageId);
      await service.queues.inbound.add(job.name, job.data, job.opts);
    },
    countEnqueueFailure: () => countEnqueueFailure(service.queues),
    logger,
    // Carries out a carrier opt-out or a planned re-send from a status callback.
    sink,
  });
  registerSlackRoutes(app, {
    channel: service.slack,
    signingSecret: service.slackSigningSecret,
    logger,
  });
  registerMetrics(app, {
    extra: () => service.slack.health.metrics(),
    overdueTimers: () => overdueCount(service.db, service.now()),
    queueDepths: async () => {
      const entries = await Promise.all(
        Object.entries(service.queues).map(
          async ([name, q]) =>
            [name, await q.getJobCountByTypes('waiting', 'delayed', 'prioritized')] as const,
        ),
      );
      return Object.fromEntries(entries);
    },
    lockWaits: () => lockWaitFigures(service.redis, service.config.queuePrefix),
    expiredSends: () => expiredSendCounts(service.db),
    eventLoop: () => service.eventLoop.scrape(),
    redisPersistenceOff: () => redisPersistenceOff(service.redis),
    enqueueFailures: () => enqueueFailureCount(service.redis, service.config.queuePrefix),
    twilioDeletions: () => twilioDeletionFigures(service.db, STUCK_AFTER),
  });
  registerAdminRoutes(app, {
    db: service.db,
    now: service.now,
    config: service.config,
    policy: service.config.planPolicy,
    reportZone: service.config.defaults.tz,
    privacy: { queues: service.queues, kickSlack: () => void service.slack.outbox.kick() },
    afterCommit: [(changes) => sink({ ...noEffects(), ...jobEffects(changes) })],
    notices: sessionNotices(service.slack.deps, (sends) => sink({ ...noEffects(), sends })),
    startWelcome: (participantId, name) =>
      triggerFlow(
        { db: service.db, runner: service.runner, sink: service.slack.deps.sink, logger },
        {
          participantId,
          flowId: 'referral_welcome',
          ...(name === null ? {} : { context: { link_worker: { name } } }),
        },
      ),
  });
}
