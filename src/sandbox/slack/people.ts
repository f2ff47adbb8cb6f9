import { randomUUID } from 'node:crypto';
import type { AppLink, EventDelivery, EventOptions } from './app-link.js';
import { toJson } from './context.js';
import { person } from './interactions.js';
import { richText } from './payloads.js';
import { type FakeSlackMessage, isTopLevel } from './store.js';

export interface UserPostInput {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  /** A reply in this thread (the parent's ts). */
  readonly threadTs?: string;
  readonly replyBroadcast?: boolean;
}

export interface UserPost {
  /** The message as the fake recorded it. */
  readonly message: FakeSlackMessage;
  /** The `message` event (and an `app_mention` when the bot is mentioned); none when the
   * app's bot user is not in the conversation, as Slack sends it nothing then. */
  readonly deliveries: readonly EventDelivery[];
}

function check(link: AppLink, input: UserPostInput) {
  person(link, input.user);
  const channel = link.state.workspace.channel(input.channel);
  if (!channel) throw new Error(`no conversation ${input.channel} in the Slack fake's workspace`);
  if (channel.isPrivate && !channel.members.has(input.user)) {
    throw new Error(`${input.user} is not in ${input.channel}`);
  }
  if (input.threadTs) {
    const parent = link.state.store.get(input.channel, input.threadTs);
    if (!parent || !isTopLevel(parent)) throw new Error(`no thread ${input.threadTs} to reply in`);
  }
  return channel;
}

function userMessage(link: AppLink, channel: string, input: UserPostInput): FakeSlackMessage {
  const { state } = link;
  const threadTs = input.threadTs ?? null;
  const broadcast = threadTs !== null && input.replyBroadcast === true;
  return {
    channel,
    ts: state.clock.next(),
    user: input.user,
    botId: null,
    appId: null,
    subtype: broadcast ? 'thread_broadcast' : null,
    text: input.text,
    blocks: richText(input.text),
    attachments: null,
    threadTs,
    replyBroadcast: broadcast,
    metadata: null,
    unfurlLinks: null,
    unfurlMedia: null,
    edited: null,
    reactions: [],
    clientMsgId: randomUUID(),
    via: 'user',
    postedAt: state.now(),
  };
}

/**
 * A person typing in Slack: the message is recorded in the workspace and the app receives
 * the `message` event (with `thread_ts`, `parent_user_id`, `channel_type`...) as Slack
 * would deliver it.
 */
export async function userPosts(
  link: AppLink,
  input: UserPostInput,
  options: EventOptions = {},
): Promise<UserPost> {
  const channel = check(link, input);
  const { state } = link;
  const message = userMessage(link, channel.id, input);
  state.store.add(message);
  if (!channel.members.has(state.workspace.bot.userId) || !link.hasEndpoint('events')) {
    return { message, deliveries: [] };
  }
  const event = {
    ...toJson(state, message),
    channel: channel.id,
    event_ts: message.ts,
    channel_type: channel.kind,
  };
  const deliveries = [await link.sendEvent(event, options)];
  if (input.text.includes(`<@${state.workspace.bot.userId}>`)) {
    const { channel_type: _type, ...mention } = event;
    deliveries.push(await link.sendEvent({ ...mention, type: 'app_mention' }));
  }
  return { message, deliveries };
}

/** The user opened the app's Home tab: the `app_home_opened` event. */
export function openAppHome(
  link: AppLink,
  user: string,
  options: EventOptions = {},
): Promise<EventDelivery> {
  person(link, user);
  const { state } = link;
  const home = state.views.home(user);
  const event: Record<string, unknown> = {
    type: 'app_home_opened',
    user,
    channel: state.workspace.openDm([user]).channel.id,
    tab: 'home',
    ...(home ? { view: home.view } : {}),
  };
  return link.sendEvent(event, options);
}
