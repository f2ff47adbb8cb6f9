import type { AppEndpoints, AppLink, EchoMode, EventDelivery, EventOptions } from './app-link.js';
import type { CallRecord, SlackState } from './context.js';
import type { AppDelivery, SignOptions } from './deliver.js';
import type { ChannelRateLimit, Fault } from './faults.js';
import {
  type ActionDelivery,
  type ActionInput,
  type ClickInput,
  clickButton,
  sendAction,
} from './interactions.js';
import type { CommandInput } from './payloads.js';
import { openAppHome, type UserPost, type UserPostInput, userPosts } from './people.js';
import type { ResponseUrlRecord } from './response-urls.js';
import { slackSignature, slackTimestamp } from './signature.js';
import type { SocketModeHub } from './socket-mode.js';
import type { EphemeralRecord, FakeSlackMessage } from './store.js';
import {
  type CommandDelivery,
  closeView,
  sendCommand,
  sendViewSubmission,
  type ViewSubmissionDelivery,
  type ViewSubmissionInput,
} from './submissions.js';
import type { FakeView } from './views.js';
import { compareTs } from './wire.js';
import type { BotSpec, SlackChannelSpec, SlackUserSpec, TeamSpec } from './workspace.js';

export interface SlackFake {
  /** Base URL of the fake, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** What to give WebClient as `slackApiUrl`: `${url}/api/`. */
  readonly apiUrl: string;
  readonly botToken: string;
  readonly signingSecret: string;
  /** Socket Mode: the app-level token and the WebSocket side; null when Socket Mode is off. */
  readonly socket: SocketModeHub | null;
  readonly team: TeamSpec;
  readonly bot: BotSpec;
  stop(): Promise<void>;

  /** Messages in a conversation (parents and replies), or everywhere, oldest first. */
  messages(channel?: string): FakeSlackMessage[];
  /** A thread, parent first; empty when `ts` starts none. */
  thread(channel: string, ts: string): FakeSlackMessage[];
  message(channel: string, ts: string): FakeSlackMessage | undefined;
  views(): FakeView[];
  ephemerals(): EphemeralRecord[];
  /** Web API calls received, oldest first; only those of `method` when given. */
  calls(method?: string): CallRecord[];
  /** POSTs the app made to response_urls. */
  responses(): ResponseUrlRecord[];
  /** Requests the fake made to the app (events, interactivity, commands), oldest first. */
  deliveries(): AppDelivery[];

  users(): SlackUserSpec[];
  addChannel(spec: SlackChannelSpec): void;
  /** The bot's DM with a user (opened if need be), as conversations.open would give. */
  dmWith(user: string): string;

  inject(fault: Fault): void;
  clearFaults(): void;
  /** Switches Slack's per-channel chat.postMessage limit on (a config, or true) or off. */
  setChannelRateLimit(config: ChannelRateLimit | boolean): void;
  setEchoBotMessages(mode: EchoMode): void;
  /** Points the app's Request URLs (one for all, or per kind) somewhere new. */
  setAppUrl(urls: string | Partial<AppEndpoints>): void;

  /** Headers Slack would sign `rawBody` with (to craft requests by hand). */
  signedHeaders(rawBody: string, timestamp?: number): Record<string, string>;
  sendEvent(event: Record<string, unknown>, options?: EventOptions): Promise<EventDelivery>;
  sendAction(input: ActionInput, sign?: SignOptions): Promise<ActionDelivery>;
  clickButton(input: ClickInput, sign?: SignOptions): Promise<ActionDelivery>;
  sendViewSubmission(
    input: ViewSubmissionInput,
    sign?: SignOptions,
  ): Promise<ViewSubmissionDelivery>;
  sendCommand(input: CommandInput, sign?: SignOptions): Promise<CommandDelivery>;
  /** The user closes a modal: the stack closes; `view_closed` goes if the view asked. */
  closeView(viewId: string, user?: string): Promise<AppDelivery | null>;
  /** A person posts (top level, or in a thread with `threadTs`): recorded, then the event. */
  userPosts(input: UserPostInput, options?: EventOptions): Promise<UserPost>;
  userReplies(
    channel: string,
    threadTs: string,
    user: string,
    text: string,
    options?: EventOptions,
  ): Promise<UserPost>;
  openAppHome(user: string, options?: EventOptions): Promise<EventDelivery>;
  /** Resolves when every background request (echo events) has been answered. */
  settled(): Promise<void>;
}

export const snapshot = (m: FakeSlackMessage): FakeSlackMessage => ({
  ...m,
  reactions: m.reactions.map((r) => ({ ...r, users: [...r.users] })),
});

const viewSnapshot = (v: FakeView): FakeView => ({ ...v, view: structuredClone(v.view) });

export interface FacadeParts {
  readonly state: SlackState;
  readonly link: AppLink;
  readonly url: string;
  readonly botToken: string;
  readonly signingSecret: string;
  readonly stop: () => Promise<void>;
}

function inspection(state: SlackState, link: AppLink) {
  const { store } = state;
  return {
    messages: (channel?: string) => {
      const all = (channel ? [channel] : store.channels()).flatMap((c) => store.all(c));
      return all.sort((a, b) => compareTs(a.ts, b.ts)).map(snapshot);
    },
    thread: (channel: string, ts: string) => store.thread(channel, ts).map(snapshot),
    message: (channel: string, ts: string) => {
      const found = store.get(channel, ts);
      return found ? snapshot(found) : undefined;
    },
    views: () => state.views.all().map(viewSnapshot),
    ephemerals: () => store.ephemerals(),
    calls: (method?: string) => state.calls.filter((c) => !method || c.method === method),
    responses: () => state.responseUrls.records(),
    deliveries: () => link.deliveries(),
    users: () => state.workspace.users(),
  };
}

function appDirection(link: AppLink) {
  return {
    sendEvent: (event, options) => link.sendEvent(event, options),
    sendAction: (input, sign) => sendAction(link, input, sign),
    clickButton: (input, sign) => clickButton(link, input, sign),
    sendViewSubmission: (input, sign) => sendViewSubmission(link, input, sign),
    sendCommand: (input, sign) => sendCommand(link, input, sign),
    closeView: (viewId, user) => closeView(link, viewId, user),
    userPosts: (input, options) => userPosts(link, input, options),
    userReplies: (channel, threadTs, user, text, options) =>
      userPosts(link, { channel, threadTs, user, text }, options),
    openAppHome: (user, options) => openAppHome(link, user, options),
    settled: () => link.settled(),
  } satisfies Partial<SlackFake>;
}

export function slackFacade(parts: FacadeParts): SlackFake {
  const { state, link, url, signingSecret } = parts;
  return {
    url,
    apiUrl: `${url}/api/`,
    botToken: parts.botToken,
    signingSecret,
    socket: state.socket,
    team: state.workspace.team,
    bot: state.workspace.bot,
    stop: async () => {
      await link.settled();
      await parts.stop();
    },
    ...inspection(state, link),
    addChannel: (spec) => void state.workspace.addChannel(spec),
    dmWith: (user) => state.workspace.openDm([user]).channel.id,
    inject: (fault) => state.faults.add(fault),
    clearFaults: () => state.faults.clear(),
    setChannelRateLimit: (config) =>
      state.rateLimit.configure(config === true ? {} : config || null),
    setEchoBotMessages: (mode) => link.setEcho(mode),
    setAppUrl: (urls) =>
      link.setEndpoints(
        typeof urls === 'string' ? { events: urls, interactivity: urls, commands: urls } : urls,
      ),
    signedHeaders: (rawBody, timestamp = slackTimestamp(state.now())) => ({
      'X-Slack-Request-Timestamp': String(timestamp),
      'X-Slack-Signature': slackSignature(signingSecret, timestamp, rawBody),
    }),
    ...appDirection(link),
  };
}
