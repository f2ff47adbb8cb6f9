import type { App } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SlackAppConfig } from '../../config/slack-app.js';
import type { PlanPolicy } from '../../domain/schedule/plan-policy.js';
import type { Flow, LocaleSet } from '../../engine/index.js';
import type { EffectSink } from '../../runner/effects.js';
import type { GlobalRule, Runner } from '../../runner/runner.js';
import type { Db } from '../../store/db.js';
import { createBoltApp } from './bolt-app.js';
import { type ChannelGuard, createChannelGuard } from './channel-check.js';
import { outboxClient } from './client.js';
import type { SlackDeps } from './deps.js';
import { dutyDue } from './duty.js';
import { heldFor } from './handoff-actions.js';
import {
  announceHandoffs,
  missingParents,
  pingDue,
  relayRule,
  unannouncedRaises,
} from './handoff-open.js';
import { EventsHealth } from './health.js';
import {
  HELD_RETRY_MS,
  inboxDone,
  inboxFailed,
  inboxHeld,
  inboxKey,
  MAX_ATTEMPTS,
  retryable,
  retryDelayMs,
  takeInbox,
  takeStored,
} from './inbox.js';
import { announceNotices } from './notices.js';
import { createOutbox, type Outbox } from './outbox.js';
import type { AckBody, LinklineReceiver } from './receiver.js';
import { announceReferrals } from './referrals.js';

export { raiseUrgentHandoff, type UrgentHandoff } from './handoff-open.js';
export type { AckBody } from './receiver.js';

export interface SlackChannelOptions {
  db: Db;
  cfg: SlackAppConfig;
  /** Bot token, and the Web API base URL (a local fake in the sandbox). */
  token: string;
  apiUrl: string | null;
  locales: LocaleSet;
  defaultLang: string;
  /** The service's zone: staffed hours are in it. */
  tz: string;
  logger: Logger;
  now?: () => Date;
  flowIds: () => readonly string[];
  /** The flows (the App Home reads the check-in's thresholds from checkin_ons4). */
  flows?: () => Readonly<Record<string, Flow>>;
  /** The planning policy (config.planPolicy) for bookings and session changes made here. */
  policy?: Partial<PlanPolicy>;
  /**
   * Check that the hand-off and referrals channels are private and hold posts to them until
   * they are (channel-check.ts; production mode). Checks begin at `channelGuard.start()`.
   */
  checkChannels?: boolean;
}

export interface SlackChannel {
  app: App;
  receiver: LinklineReceiver;
  outbox: Outbox;
  /** Relays a handed-off participant's texts to the thread; goes after STOP/START. */
  relayRule: GlobalRule;
  /** The scheduler's sink, plus: hand-offs in the effects are posted to Slack. */
  wrapSink(sink: EffectSink): EffectSink;
  /** Posts these hand-offs (parents, urgent pings) now; the wrapped sink calls it. */
  announce(handoffIds: readonly string[]): Promise<void>;
  /** The runner is built after the Slack side (it needs the wrapped sink). */
  attachRunner(runner: Runner): void;
  /** One verified request from Slack: dedupe, then Bolt. The status and body to answer. */
  receive(
    body: Record<string, unknown>,
    retry?: { num?: number; reason?: string },
  ): Promise<{ status: number; body?: AckBody }>;
  /** Responses to Slack by status, the 1%-over-10-minutes alert and app_rate_limited (63). */
  health: EventsHealth;
  /** Whether the hand-off and referrals channels are private; posts wait until they are. */
  channelGuard: ChannelGuard;
  /** Heals and escalates: missing parents, re-pings, referral notices, failed requests. */
  sweep(): Promise<void>;
  start(): void;
  stop(): Promise<void>;
  deps: SlackDeps;
}

/** The route answers 200 itself when Bolt has not acked within this long (Slack allows 3 s). */
export const ACK_WAIT_MS = 2500;

export function createSlackChannel(o: SlackChannelOptions): SlackChannel {
  const now = o.now ?? (() => new Date());
  const log = o.logger.child({ component: 'slack' });
  const client = outboxClient({
    token: o.token,
    apiUrl: o.apiUrl,
    timeoutMs: o.cfg.timeoutMs,
    logger: o.logger,
  });
  const channelGuard = createChannelGuard({
    client,
    channels: [
      { setting: 'SLACK_HANDOFF_CHANNEL', ref: o.cfg.handoffChannel },
      { setting: 'SLACK_REFERRALS_CHANNEL', ref: o.cfg.referralsChannel },
    ],
    logger: o.logger,
    enabled: o.checkChannels === true,
  });
  const outbox = createOutbox({ db: o.db, client, logger: o.logger, now, held: channelGuard.held });
  let runner: Runner | null = null;
  let sink: EffectSink = async () => undefined;
  const { app, receiver } = createBoltApp(
    { token: o.token, apiUrl: o.apiUrl, timeoutMs: o.cfg.timeoutMs, logger: o.logger },
    () => deps,
  );
  const deps: SlackDeps = {
    db: o.db,
    cfg: o.cfg,
    locales: o.locales,
    defaultLang: o.defaultLang,
    logger: o.logger,
    now,
    outbox,
    sink: (e) => sink(e),
    runner: () => {
      if (!runner) throw new Error('the runner is not attached to the Slack channel');
      return runner;
    },
    ephemeral: async (channel, user, text, threadTs) => {
      try {
        await app.client.chat.postEphemeral({
          token: o.token,
          channel,
          user,
          text,
          ...(threadTs ? { thread_ts: threadTs } : {}),
        });
      } catch (err) {
        log.warn({ code: (err as { code?: string }).code }, 'ephemeral failed');
      }
    },
    flowIds: o.flowIds,
    ...(o.flows ? { flows: o.flows } : {}),
    tz: o.tz,
    ...(o.policy === undefined ? {} : { policy: o.policy }),
  };

  /**
   * Our own prompt retries of failed requests, in this process (the sweep, in any worker,
   * takes over those of a process that died). takeStored's lease keeps it to one at a time.
   */
  const retries = new Set<NodeJS.Timeout>();
  let closed = false;
  function retryLater(id: string, ms: number): void {
    if (closed) return;
    const t = setTimeout(() => {
      retries.delete(t);
      retryNow(id).catch((err: Error) =>
        log.warn({ reason: err.message, id }, 'slack request retry failed'),
      );
    }, ms);
    t.unref();
    retries.add(t);
  }
  async function retryNow(id: string): Promise<void> {
    const row = await takeStored(o.db, id, now());
    if (row) await process(id, row.body as Record<string, unknown>, {});
  }

  /** After a failed try: held (try again shortly), or due again with backoff, or given up. */
  async function failed(id: string, err: Error): Promise<void> {
    const retriable = id.startsWith('event:') || id.startsWith('action:');
    const earlier = heldFor(err);
    if (earlier) {
      log.info({ id, earlier }, 'thread reply held for an earlier one');
      await inboxHeld(o.db, id, now());
      if (retriable) retryLater(id, HELD_RETRY_MS);
      return;
    }
    log.warn({ reason: err.message, id }, 'slack request failed');
    const attempts = await inboxFailed(o.db, id, err.message, now());
    if (!retriable) return;
    if (attempts >= MAX_ATTEMPTS)
      log.error(
        { id, attempts, alert: 'slack_request_given_up' },
        'ops alert: a Slack request failed every attempt; it is not tried again',
      );
    else retryLater(id, retryDelayMs(attempts));
  }

  async function process(
    id: string | null,
    body: Record<string, unknown>,
    retry: { num?: number; reason?: string },
  ) {
    const { acked, done } = receiver.dispatch(body, retry);
    const finished = done.then(
      async () => {
        if (id) await inboxDone(o.db, id);
      },
      async (err: Error) => {
        if (id) await failed(id, err).catch(() => undefined);
        throw err;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), ACK_WAIT_MS);
    });
    try {
      const first = await Promise.race([
        acked.then((b) => ({ b })),
        finished.then(() => 'done' as const),
        waited,
      ]);
      if (first === 'timeout' || first === 'done') return { status: 200 };
      return { status: 200, body: first.b };
    } catch {
      // Failed before acking: 500, so Slack retries (the inbox row lets the retry run).
      return { status: 500 };
    } finally {
      clearTimeout(timer);
      finished.catch(() => undefined);
    }
  }

  const health = new EventsHealth({
    logger: o.logger,
    now,
    post: o.cfg.fallbackContact
      ? async (text) => {
          await app.client.chat.postMessage({
            token: o.token,
            channel: o.cfg.fallbackContact!,
            text,
          });
        }
      : null,
  });

  let timer: NodeJS.Timeout | null = null;
  const channel: SlackChannel = {
    app,
    receiver,
    outbox,
    deps,
    relayRule: relayRule(deps, o.tz),
    wrapSink: (inner) => {
      sink = inner;
      return async (effects) => {
        await inner(effects);
        if (effects.handoffs.length > 0)
          await announceHandoffs(deps, effects.handoffs, o.tz).catch((err: Error) =>
            log.warn({ reason: err.message }, 'hand-off announce failed; the sweep will retry'),
          );
      };
    },
    announce: (ids) => announceHandoffs(deps, ids, o.tz),
    attachRunner: (r) => {
      runner = r;
    },
    health,
    channelGuard,
    receive: async (body, retry = {}) => {
      // Not an event_callback (Bolt would not route it): Slack says it is dropping our events.
      if (body.type === 'app_rate_limited') {
        const minute = body.minute_rate_limited;
        health.rateLimited(typeof minute === 'number' ? minute : undefined);
        return { status: 200 };
      }
      const key = inboxKey(body);
      if (key && !(await takeInbox(o.db, key, body, now()))) {
        log.info({ kind: key.kind, retry: retry.num ?? 0 }, 'duplicate slack request ignored');
        return { status: 200 };
      }
      return process(key?.id ?? null, body, retry);
    },
    sweep: async () => {
      // First, and whatever else fails: the duty phone for urgent hand-offs Slack has not shown.
      await dutyDue(deps).catch((err: Error) =>
        log.warn({ reason: err.message }, 'duty phone check failed'),
      );
      const ids = [...(await missingParents(o.db)), ...(await unannouncedRaises(o.db))];
      if (ids.length > 0) await announceHandoffs(deps, ids, o.tz);
      if ((await pingDue(o.db, deps)) > 0) void outbox.kick();
      await announceReferrals(deps);
      await announceNotices(deps);
      for (const row of await retryable(o.db, now())) await retryNow(row.id);
    },
    start: () => {
      closed = false;
      outbox.start();
      timer ??= setInterval(() => {
        channel
          .sweep()
          .catch((err: Error) => log.warn({ reason: err.message }, 'slack sweep failed'));
      }, 15_000);
    },
    stop: async () => {
      channelGuard.stop();
      if (timer) clearInterval(timer);
      timer = null;
      closed = true;
      for (const t of retries) clearTimeout(t);
      retries.clear();
      await outbox.stop();
    },
  };
  return channel;
}
