import {
  App,
  type Authorize,
  type BlockAction,
  type ButtonAction,
  type RespondFn,
} from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import { registerLeadHandlers } from '../leads/slack.js';
import { interactiveClientOptions, slackLogger } from './client.js';
import type { SlackDeps } from './deps.js';
import { handoffAction, threadReply } from './handoff-actions.js';
import { ACTIONS } from './handoff-card.js';
import { LinklineReceiver } from './receiver.js';
import { assignReferral, REFERRAL_ASSIGN } from './referrals.js';
import { registerLinkWorkerTools } from './tools/index.js';

export interface BoltOptions {
  token: string;
  apiUrl: string | null;
  timeoutMs: number;
  logger: Logger;
}

type MessageEvent = {
  subtype?: string;
  bot_id?: string;
  user?: string;
  text?: string;
  ts: string;
  thread_ts?: string;
  channel: string;
};

/** Bolt's authorize for our one bot token: auth.test once it succeeds, again after a failure. */
export function cachedAuthorize(client: WebClient, token: string): Authorize<boolean> {
  let known: Promise<{ botId: string; botUserId: string }> | null = null;
  return async () => {
    if (!known) {
      const asking = client.auth.test({ token }).then((r) => ({
        botId: r.bot_id ?? '',
        botUserId: r.user_id ?? '',
      }));
      known = asking;
      asking.catch(() => {
        if (known === asking) known = null;
      });
    }
    return { botToken: token, ...(await known) };
  };
}

async function tell(respond: RespondFn, text: string): Promise<void> {
  await respond({ response_type: 'ephemeral', replace_original: false, text });
}

/** The Bolt app: our listeners on Bolt's middleware, with our own receiver. */
export function createBoltApp(
  o: BoltOptions,
  deps: () => SlackDeps,
): { app: App; receiver: LinklineReceiver } {
  const receiver = new LinklineReceiver();
  const clientOptions = interactiveClientOptions({ ...o });
  const app = new App({
    // Not `token`: with it Bolt calls auth.test at construction and keeps the promise; if
    // Slack fails that call (a 5xx at start-up) the rejection is unhandled and the process
    // dies. Our authorize asks on first use, caches only a success, and a failure fails that
    // one request (which the inbox retries).
    authorize: cachedAuthorize(new WebClient(undefined, clientOptions), o.token),
    receiver,
    logger: slackLogger(o.logger),
    clientOptions,
    // Our own posts (relayed texts, cards) never come back in as replies: no echo loop.
    ignoreSelf: true,
  });
  const log = o.logger.child({ component: 'slack_app' });

  app.event('message', async ({ event }) => {
    const e = event as unknown as MessageEvent;
    if (e.subtype !== undefined || e.bot_id !== undefined || !e.user) return;
    if (!e.thread_ts || e.thread_ts === e.ts) return;
    const outcome = await threadReply(deps(), {
      channel: e.channel,
      threadTs: e.thread_ts,
      ts: e.ts,
      user: e.user,
      text: e.text ?? '',
    });
    log.info({ outcome }, 'thread reply');
  });

  const handoffButton = (kind: 'claim' | 'back' | 'close') =>
    app.action<BlockAction<ButtonAction>>(ACTIONS[kind], async ({ ack, body, action, respond }) => {
      await ack();
      // The message clicked on: the hand-off's card must be it (checklist 60).
      const container = body.container as { channel_id?: string; message_ts?: string } | undefined;
      const out = await handoffAction(deps(), kind, body.user.id, action.value, {
        channel: body.channel?.id ?? container?.channel_id,
        ts: body.message?.ts ?? container?.message_ts,
      });
      log.info({ kind, ok: out.ok }, 'hand-off button');
      // Through the response_url: it reaches whoever clicked, member of the channel or not.
      if (!out.ok) await tell(respond, out.ephemeral);
    });
  handoffButton('claim');
  handoffButton('back');
  handoffButton('close');

  app.action<BlockAction<ButtonAction>>(
    REFERRAL_ASSIGN,
    async ({ ack, body, action, client, respond }) => {
      await ack();
      const out = await assignReferral(deps(), body.user.id, action.value);
      const channel = body.channel?.id;
      if (!out.ok) await tell(respond, out.ephemeral);
      // chat.update is idempotent: a direct call (with the client's retries) is safe here.
      if (out.ok && out.card && channel && body.message?.ts)
        await client.chat.update({ channel, ts: body.message.ts, ...out.card } as never);
    },
  );

  // Activity leads: attendance buttons, the drop-in and "Cancel or move" modals.
  registerLeadHandlers(app, deps, log);

  // `/linkline`, its modals, and the App Home caseload.
  registerLinkWorkerTools(app, deps, o.logger);

  // app_rate_limited is not an event_callback: SlackChannel.receive handles it (health.ts).
  return { app, receiver };
}
