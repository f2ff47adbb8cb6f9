import type { FaultQueue, RateLimiter } from './faults.js';
import type { ResponseUrls } from './response-urls.js';
import type { SocketModeHub } from './socket-mode.js';
import { type FakeSlackMessage, type MessageStore, messageJson } from './store.js';
import type { Triggers, ViewStore } from './views.js';
import type { TsClock } from './wire.js';
import type { Workspace } from './workspace.js';

/** What the fake does when the app changes messages (the echo events, when switched on). */
export interface MessageHooks {
  posted(message: FakeSlackMessage): void;
  changed(previous: FakeSlackMessage, current: FakeSlackMessage): void;
  deleted(message: FakeSlackMessage): void;
}

/** One Web API call the fake received, and what it did with it. */
export interface CallRecord {
  readonly at: Date;
  readonly method: string;
  /** The arguments (structured ones parsed), without any token. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly contentType: string | null;
  /** HTTP status sent, or what happened to the socket. */
  readonly outcome: number | 'reset' | 'hang';
  /** The `ok` and `error` of the body sent (null when nothing was sent). */
  readonly ok: boolean | null;
  readonly error: string | null;
}

/** Everything the Web API methods share. */
export interface SlackState {
  readonly workspace: Workspace;
  readonly store: MessageStore;
  readonly views: ViewStore;
  readonly triggers: Triggers;
  readonly responseUrls: ResponseUrls;
  readonly faults: FaultQueue;
  readonly rateLimit: RateLimiter;
  readonly clock: TsClock;
  readonly calls: CallRecord[];
  readonly tokens: { readonly valid: readonly string[]; readonly revoked: readonly string[] };
  readonly scopes: readonly string[];
  readonly hooks: MessageHooks;
  readonly now: () => Date;
  /** The Socket Mode side, when the app has Socket Mode on. */
  socket: SocketModeHub | null;
}

export function botProfile(state: SlackState): Record<string, unknown> {
  const { bot, team } = state.workspace;
  return {
    id: bot.botId,
    app_id: bot.appId,
    name: bot.name,
    icons: { image_36: 'https://a.slack-edge.com/80588/img/plugins/app/bot_36.png' },
    deleted: false,
    updated: Math.floor(state.now().getTime() / 1000) - 86_400,
    team_id: team.id,
  };
}

export function toJson(
  state: SlackState,
  message: FakeSlackMessage,
  metadata = false,
): Record<string, unknown> {
  return messageJson(state.store, message, {
    teamId: state.workspace.team.id,
    metadata,
    botProfile: botProfile(state),
  });
}
