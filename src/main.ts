import { Redis } from 'ioredis';
import { formatProblem, loadCheckedCatalog } from './catalog/load.js';
import { loadTemplateClasses } from './catalog/template-classes.js';
import { fireLeadItem, leadSmsReply } from './channels/leads/index.js';
import { createSlackChannel, type SlackChannel } from './channels/slack/index.js';
import { seedLinkWorkers } from './channels/slack/sandbox-seed.js';
import { type SlackSocket, startSocketMode } from './channels/slack/socket.js';
import { twilioGateway } from './channels/sms/gateway.js';
import {
  type SweepResult,
  sweepInbound,
  twilioInboundLister,
} from './channels/sms/inbound-sweep.js';
import { createSmsSender } from './channels/sms/index.js';
import type { Config, TwilioConfig } from './config/schema.js';
import { memoizeZoneOffsets } from './domain/schedule/zone-offsets.js';
import { ingest } from './http/sms/inbound.js';
import type { Logger } from './log.js';
import { deleteAtTwilio, twilioRemover } from './privacy/twilio-erase.js';
import { checkRedisSettings, redisAddress } from './redis.js';
import { type SmsGateway, sendOutbound } from './runner/outbound.js';
import { defaultRules } from './runner/rules/index.js';
import { createRunner, type Runner } from './runner/runner.js';
import { createSendGuard, guardedGateway } from './runner/send-guard.js';
import {
  SANDBOX_APP_TOKEN,
  SANDBOX_BOT_TOKEN,
  SANDBOX_SIGNING_SECRET,
  type SlackFake,
  startSlackFake,
} from './sandbox/slack/index.js';
import { startTwilioFake, type TwilioFake } from './sandbox/twilio/index.js';
import { checkClockSkew } from './scheduler/clock-skew.js';
import { type EventLoopMonitor, startEventLoopMonitor } from './scheduler/event-loop.js';
import { createLockAlert } from './scheduler/lock-alert.js';
import { createPacer } from './scheduler/pacing.js';
import { closeQueues, createQueues, type Queues } from './scheduler/queues.js';
import { inboundJob, inboundLeadJob, reconcile } from './scheduler/reconciler.js';
import { createSink } from './scheduler/sink.js';
import { outboundConcurrency, startWorkers } from './scheduler/workers.js';
import { type Db, dbOptionsOf, openDb } from './store/db.js';
import { migrate } from './store/migrate.js';
import { unwatchLockWaits, watchLockWaits } from './store/participant-lock.js';
import { getMessage } from './store/repos/messages.js';
import { applyRetention, type RetentionCounts } from './store/repos/retention.js';
import { ANALYZE_EVERY_MS, analyzeChanged, needsOwnAnalyze } from './store/stats-keeper.js';

/** The sandbox's pretend Twilio account: no real credentials exist in sandbox mode. */
export const SANDBOX_TWILIO: TwilioConfig = {
  accountSid: `AC${'0'.repeat(32)}`,
  authToken: 'sandbox-auth-token',
  from: '+447700900000',
  messagingServiceSid: null,
  apiUrl: null,
};

/** One pacing key per sender (Messaging Service or number), shared by every process. */
export function pacerKey(prefix: string, twilio: TwilioConfig): string {
  return `${prefix}:pace:${twilio.messagingServiceSid ?? twilio.from ?? 'default'}`;
}

/** Reminders that cannot arrive within this long are dropped by the carrier (30036). */
const VALIDITY_SECONDS = 2 * 3600;

export interface Service {
  config: Config;
  db: Db;
  redis: Redis;
  queues: Queues;
  runner: Runner;
  gateway: SmsGateway;
  twilioConfig: TwilioConfig;
  /** The in-process local Twilio, in sandbox mode when none is given by TWILIO_API_URL. */
  twilioFake: TwilioFake | null;
  /** The Slack app: hand-off threads, referral notices, buttons. */
  slack: SlackChannel;
  slackSigningSecret: string;
  /** The in-process local Slack, in sandbox mode when none is given by SLACK_API_URL. */
  slackFake: SlackFake | null;
  /** One run of the inbound reconciliation job (checklist 22); the workers run it on a timer. */
  sweepInbound(): Promise<SweepResult>;
  /** One run of the retention job (checklist 89); the workers run it nightly. */
  applyRetention(): Promise<RetentionCounts>;
  /** The Socket Mode connection (SLACK_SOCKET_MODE=on), in the processes that open one. */
  slackSocket: SlackSocket | null;
  /** This process's event-loop delay: `/metrics` and a warning when blocked (checklist 74). */
  eventLoop: EventLoopMonitor;
  /** The service's clock: the sandbox's movable one in sandbox mode, else the real one. */
  now: () => Date;
  close(): Promise<void>;
}

async function slackFor(config: Config) {
  if (config.slack)
    return {
      token: config.slack.botToken,
      secret: config.slack.signingSecret,
      appToken: config.slack.appToken,
      apiUrl: config.slack.apiUrl,
      fake: null,
    };
  const sandbox = {
    token: SANDBOX_BOT_TOKEN,
    secret: SANDBOX_SIGNING_SECRET,
    appToken: SANDBOX_APP_TOKEN,
  };
  if (config.slackApp.sandboxApiUrl)
    return { ...sandbox, apiUrl: config.slackApp.sandboxApiUrl, fake: null };
  const base = config.http.publicUrl;
  const fake = await startSlackFake({
    requestUrls: {
      events: `${base}/slack/events`,
      interactivity: `${base}/slack/actions`,
      commands: `${base}/slack/commands`,
    },
    // Socket Mode in the sandbox too: the local Slack sends over the WebSocket the app opens.
    socketMode: config.slackApp.socketMode,
  });
  return {
    token: fake.botToken,
    secret: fake.signingSecret,
    appToken: fake.socket?.appToken ?? null,
    apiUrl: fake.apiUrl,
    fake,
  };
}

async function twilioFor(
  config: Config,
): Promise<{ twilio: TwilioConfig; fake: TwilioFake | null }> {
  if (config.twilio) return { twilio: config.twilio, fake: null };
  if (config.sandboxTwilioUrl)
    return { twilio: { ...SANDBOX_TWILIO, apiUrl: config.sandboxTwilioUrl }, fake: null };
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    webhookUrl: `${config.http.publicUrl}/sms/inbound`,
  });
  return { twilio: { ...SANDBOX_TWILIO, apiUrl: fake.url }, fake };
}

export interface BuildOptions {
  /**
   * The clock of the runner, its rules, the sink and the reconciler. Production uses the
   * real one; the sandbox passes its movable clock (src/sandbox/page/clock.ts).
   */
  now?: () => Date;
  /**
   * Open the Socket Mode connection when SLACK_SOCKET_MODE=on (default true). `linkline
   * worker` does not: events come to the `serve` processes, as over HTTP.
   */
  slackSocket?: boolean;
}

/**
 * The composition root: database (migrated), flows (checked: a broken catalog refuses to
 * start), Redis queues, the runner, the SMS gateway and, unless WORKERS=off, the workers.
 */
export async function buildService(
  config: Config,
  logger: Logger,
  options: BuildOptions = {},
): Promise<Service> {
  const now = options.now ?? (() => new Date());
  memoizeZoneOffsets();
  const catalog = await loadCheckedCatalog(config.flowsDir, config.localesDir);
  if (catalog.problems.length > 0) {
    throw new Error(
      `flows or locales have problems:\n${catalog.problems.map(formatProblem).join('\n')}`,
    );
  }
  const db = await openDb(dbOptionsOf(config.db));
  await migrate(db);
  const redis = new Redis(redisAddress(config.redis.url), { maxRetriesPerRequest: null });
  redis.on('error', (err: NodeJS.ErrnoException) =>
    logger.warn({ code: err.code }, 'redis connection error'),
  );
  try {
    // Before any worker starts: an evicting Redis is refused (checklist 70), a skewed clock warned (77).
    await checkRedisSettings(redis, logger);
    await checkClockSkew(redis, logger);
  } catch (err) {
    redis.disconnect();
    await db.close();
    throw err;
  }
  const queues = createQueues(redis, config.queuePrefix);
  // A processor that blocks the loop stalls its jobs (queues.ts, JOB_LOCK_MS): measured here.
  const eventLoop = startEventLoopMonitor({ logger });
  // Long participant-lock waits: a warn log with the reference and /metrics (checklist 19).
  const lockWatch = createLockAlert({
    db,
    redis,
    prefix: config.queuePrefix,
    thresholdMs: config.lockWaitAlertMs,
    logger,
  });
  watchLockWaits(lockWatch);
  const { twilio, fake } = await twilioFor(config);
  const sender = createSmsSender(twilio, {
    logger,
    resendAfterMs: config.smsResendAfterSeconds * 1000,
  });
  const provider = twilioGateway(sender, {
    publicUrl: config.http.publicUrl,
    validitySeconds: VALIDITY_SECONDS,
    bodyOf: async (id) => (await getMessage(db, id))?.body ?? null,
  });
  // Each send waits for the sender's smooth slot (SMS_RATE, shared through Redis), then
  // re-reads opt-out and consent right before the provider call.
  const pacer =
    config.smsRate > 0
      ? createPacer(redis, {
          key: pacerKey(config.queuePrefix, twilio),
          ratePerSecond: config.smsRate,
        })
      : undefined;
  const gateway = guardedGateway(
    provider,
    createSendGuard(db, await loadTemplateClasses(config.localesDir)),
    pacer,
  );
  const slackSetup = await slackFor(config);
  if (slackSetup.fake) await seedLinkWorkers(db, slackSetup.fake.users());
  const slack = createSlackChannel({
    db,
    cfg: config.slackApp,
    token: slackSetup.token,
    apiUrl: slackSetup.apiUrl,
    locales: catalog.locales,
    defaultLang: config.defaults.lang,
    tz: config.defaults.tz,
    logger,
    flowIds: () => Object.keys(catalog.flows),
    flows: () => catalog.flows,
    policy: config.planPolicy,
    checkChannels: config.mode === 'production',
  });
  // Checklist 92: the hand-off and referrals channels must be private (in the background:
  // Slack being unreachable does not stop start-up; posts wait for the first answer).
  slack.channelGuard.start();
  // Replies also go at once from the process that wrote them (the job stays the durable path).
  // Tracked so that shutting down waits for them, as it waits for the workers' active jobs.
  const directSends = new Set<Promise<unknown>>();
  const sendNow = (id: string) => {
    const send: Promise<unknown> = sendOutbound(db, gateway, id, logger).finally(() =>
      directSends.delete(send),
    );
    directSends.add(send);
    return send;
  };
  const sink = slack.wrapSink(createSink(db, queues, logger, now, undefined, sendNow));
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: config.defaults.lang,
    rules: [
      ...defaultRules({
        locales: catalog.locales,
        defaultLang: config.defaults.lang,
        logger,
        now,
        flows: catalog.flows,
      }),
      slack.relayRule,
    ],
    logger,
    now,
    sink,
    leadItem: (tx, item, effects) => fireLeadItem(tx, item, effects, now(), slack.deps),
    policy: config.planPolicy,
  });
  slack.attachRunner(runner);
  if (config.workers) slack.start();
  // What the webhook missed, listed at Twilio and ingested through the webhook's own path.
  const lister = twilioInboundLister(twilio);
  const sweepLog = logger.child({ component: 'inbound_sweep' });
  const sweep = () =>
    sweepInbound({
      db,
      lister,
      sweepKey: twilio.from ?? twilio.messagingServiceSid ?? 'default',
      ingest: (sms) =>
        ingest(
          {
            db,
            enqueueInbound: async (messageId) => {
              const job = inboundJob(messageId);
              await queues.inbound.add(job.name, job.data, job.opts);
            },
            enqueueLead: async (messageId) => {
              const job = inboundLeadJob(messageId);
              await queues.inbound.add(job.name, job.data, job.opts);
            },
            // Not a webhook: no Twilio deadline to answer within.
            dbTimeoutMs: 10_000,
          },
          sms,
          sweepLog,
        ),
      logger: sweepLog,
    });
  // Conversation content past RETENTION_MONTHS after a participant's last activity.
  const retentionLog = logger.child({ component: 'retention' });
  const retention = async () => {
    const counts = await applyRetention(db, { now: now(), months: config.retentionMonths });
    retentionLog.info({ ...counts, months: config.retentionMonths }, 'retention applied');
    return counts;
  };
  // Erased participants' messages deleted from Twilio's log (checklist 88).
  const remover = twilioRemover(twilio);
  const eraseLog = logger.child({ component: 'twilio_erase' });
  const twilioErase = () => deleteAtTwilio({ db, remover, logger: eraseLog, now });
  // No autovacuum (turned off, or PGlite): the workers analyse Linkline's tables themselves.
  const ownAnalyze = config.workers && (await needsOwnAnalyze(db));
  const analyzeLog = logger.child({ component: 'analyze' });
  if (ownAnalyze)
    analyzeLog.info('no autovacuum on this database: the workers keep its statistics fresh');
  const analyze = async () => {
    const tables = await analyzeChanged(db);
    if (tables.length > 0) analyzeLog.debug({ tables }, 'analysed');
  };
  let slackSocket: SlackSocket | null = null;
  if (config.slackApp.socketMode && options.slackSocket !== false && slackSetup.appToken)
    slackSocket = startSocketMode(slack, {
      appToken: slackSetup.appToken,
      apiUrl: slackSetup.apiUrl,
      timeoutMs: config.slackApp.timeoutMs,
      logger,
    });
  const workers = config.workers
    ? await startWorkers({
        db,
        redis,
        queues,
        prefix: config.queuePrefix,
        runner,
        gateway,
        logger,
        now,
        concurrency: { outbound: outboundConcurrency(config.smsRate) },
        inboundSweep: { run: sweep, everyMs: config.inboundSweepSeconds * 1000 },
        retention: { run: retention, tz: config.defaults.tz },
        twilioErase: { run: twilioErase, everyMs: 60_000 },
        ...(ownAnalyze ? { analyze: { run: analyze, everyMs: ANALYZE_EVERY_MS } } : {}),
        leadText: (messageId) => leadSmsReply(slack.deps, messageId, logger),
      })
    : null;
  if (workers)
    await reconcile(db, redis, queues, config.queuePrefix, now(), logger).catch((err: Error) =>
      logger.warn({ reason: err.message }, 'start-up reconcile failed'),
    );
  return {
    now,
    config,
    db,
    redis,
    queues,
    runner,
    gateway,
    twilioConfig: twilio,
    twilioFake: fake,
    slack,
    slackSigningSecret: slackSetup.secret,
    slackFake: slackSetup.fake,
    sweepInbound: sweep,
    applyRetention: retention,
    slackSocket,
    eventLoop,
    close: async () => {
      await slackSocket?.stop();
      await slack.stop();
      // Workers first: they finish their active jobs before the connections go.
      await workers?.close();
      // Replies sent at once from here (a drained job may have committed one meanwhile).
      while (directSends.size > 0) await Promise.allSettled([...directSends]);
      await closeQueues(queues);
      unwatchLockWaits(lockWatch);
      redis.disconnect();
      sender.close();
      lister.close();
      remover.close();
      await fake?.stop();
      await slackSetup.fake?.stop();
      await db.close();
      eventLoop.stop();
    },
  };
}
