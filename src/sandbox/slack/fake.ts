import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AppEndpoints, AppLink, type EchoMode } from './app-link.js';
import type { MessageHooks, SlackState } from './context.js';
import { type ChannelRateLimit, FaultQueue, RateLimiter } from './faults.js';
import { DEFAULT_BOT_SCOPES } from './methods.js';
import { ResponseUrls } from './response-urls.js';
import { apiHandler } from './server.js';
import { type SlackFake, slackFacade } from './slack-facade.js';
import { SocketModeHub, type SocketModeOptions } from './socket-mode.js';
import { MessageStore } from './store.js';
import { Triggers, ViewStore } from './views.js';
import { TsClock } from './wire.js';
import {
  type BotSpec,
  SANDBOX_BOT,
  SANDBOX_CHANNELS,
  SANDBOX_TEAM,
  SANDBOX_USERS,
  type SlackChannelSpec,
  type SlackUserSpec,
  type TeamSpec,
  Workspace,
} from './workspace.js';

export const SANDBOX_BOT_TOKEN = 'xoxb-1000000001-2000000002-linklinesandboxtoken';
export const SANDBOX_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';

export interface SlackFakeOptions {
  /** The bot token the Web API accepts (`Authorization: Bearer`). */
  readonly botToken?: string;
  /** Tokens answered with `token_revoked` instead of `invalid_auth`. */
  readonly revokedTokens?: readonly string[];
  /** The app's signing secret: what requests to the app are signed with. */
  readonly signingSecret?: string;
  readonly verificationToken?: string;
  /** The bot token's scopes; missing ones give `missing_scope`. */
  readonly scopes?: readonly string[];
  readonly team?: TeamSpec;
  readonly bot?: BotSpec;
  readonly users?: readonly SlackUserSpec[];
  readonly channels?: readonly SlackChannelSpec[];
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** The listening socket's accept queue (Node's default 511; the benchmark's day asks more). */
  readonly backlog?: number;
  readonly host?: string;
  /** One Request URL for events, interactivity and commands (Bolt's `/slack/events` style). */
  readonly appUrl?: string;
  /** Separate Request URLs, overriding `appUrl` per kind. */
  readonly requestUrls?: Partial<AppEndpoints>;
  /** Send the bot's own posts, edits and deletions back as events (echo-loop tests). */
  readonly echoBotMessages?: EchoMode;
  /** Slack's ~1 message/second/channel limit on chat.postMessage; off by default. */
  readonly channelRateLimit?: ChannelRateLimit | boolean;
  /** How long a trigger_id can be exchanged for a modal; Slack: 3 seconds. */
  readonly triggerTtlMs?: number;
  /** How long Slack waits for the app's answer; 3 seconds. */
  readonly ackTimeoutMs?: number;
  /** Waits before Slack's three event retries (`autoRetry`); Slack: ~1 s, 1 min, 5 min. */
  readonly eventRetryDelaysMs?: readonly number[];
  /**
   * Socket Mode on (true, or its settings): requests to the app go over the WebSocket the
   * app opens with `apps.connections.open` instead of to Request URLs.
   */
  readonly socketMode?: boolean | Omit<SocketModeOptions, 'appId' | 'now'>;
  readonly now?: () => Date;
}

function endpoints(options: SlackFakeOptions): AppEndpoints {
  const base = options.appUrl ?? null;
  return {
    events: options.requestUrls?.events ?? base,
    interactivity: options.requestUrls?.interactivity ?? base,
    commands: options.requestUrls?.commands ?? base,
  };
}

function rateLimiter(options: SlackFakeOptions, now: () => Date): RateLimiter {
  const limiter = new RateLimiter(() => now().getTime());
  const config = options.channelRateLimit;
  if (config) limiter.configure(config === true ? {} : config);
  return limiter;
}

function buildState(options: SlackFakeOptions, base: () => string, hooks: MessageHooks) {
  const now = options.now ?? (() => new Date());
  const workspace = new Workspace({
    team: options.team ?? SANDBOX_TEAM,
    bot: options.bot ?? SANDBOX_BOT,
    users: options.users ?? SANDBOX_USERS,
    channels: options.channels ?? SANDBOX_CHANNELS,
    now,
  });
  const { team, bot } = workspace;
  const state: SlackState = {
    workspace,
    store: new MessageStore(),
    views: new ViewStore({ teamId: team.id, appId: bot.appId, botId: bot.botId }, now),
    triggers: new Triggers(options.triggerTtlMs ?? 3000, () => now().getTime()),
    responseUrls: new ResponseUrls(base, team.id),
    faults: new FaultQueue(),
    rateLimit: rateLimiter(options, now),
    clock: new TsClock(now),
    calls: [],
    tokens: {
      valid: [options.botToken ?? SANDBOX_BOT_TOKEN],
      revoked: options.revokedTokens ?? [],
    },
    scopes: options.scopes ?? DEFAULT_BOT_SCOPES,
    hooks,
    now,
    socket: null,
  };
  return state;
}

/** Starts a local stand-in for Slack: the Web API, response_urls, and requests to the app. */
export async function startSlackFake(options: SlackFakeOptions = {}): Promise<SlackFake> {
  let baseUrl = '';
  let link: AppLink | null = null;
  const hooks: MessageHooks = {
    posted: (m) => link?.posted(m),
    changed: (p, c) => link?.changed(p, c),
    deleted: (m) => link?.deleted(m),
  };
  const state = buildState(options, () => baseUrl, hooks);
  const signingSecret = options.signingSecret ?? SANDBOX_SIGNING_SECRET;
  link = new AppLink(state, {
    endpoints: endpoints(options),
    signer: { signingSecret, now: state.now, ackTimeoutMs: options.ackTimeoutMs ?? 3000 },
    identity: {
      team: state.workspace.team,
      bot: state.workspace.bot,
      verificationToken: options.verificationToken ?? 'Jhj5dZrVaK7ZwHHjRyZWjbDl',
    },
    eventRetryDelaysMs: options.eventRetryDelaysMs ?? [1000, 60_000, 300_000],
    echo: options.echoBotMessages ?? false,
  });
  const server = createServer(apiHandler(state));
  // Idle connections kept a minute, as the Twilio fake's (KEEP_ALIVE_MS there), not 5 s.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host, backlog: options.backlog ?? 511 }, () =>
      resolve(),
    );
  });
  baseUrl = `http://${host}:${(server.address() as AddressInfo).port}`;
  if (options.socketMode) {
    const settings = options.socketMode === true ? {} : options.socketMode;
    state.socket = new SocketModeHub({
      ...settings,
      appId: state.workspace.bot.appId,
      now: state.now,
      ackTimeoutMs: settings.ackTimeoutMs ?? options.ackTimeoutMs ?? 3000,
      retryDelaysMs: settings.retryDelaysMs ??
        options.eventRetryDelaysMs ?? [1000, 60_000, 300_000],
    });
    state.socket.attach(server, baseUrl);
    link.useSocket(state.socket);
  }
  const stop = async () => {
    await state.socket?.stop();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  };
  const botToken = state.tokens.valid[0] ?? SANDBOX_BOT_TOKEN;
  return slackFacade({ state, link, url: baseUrl, botToken, signingSecret, stop });
}
