import { type SlackState, toJson } from './context.js';
import { access, isReply, parseContent, parseMetadata } from './method-checks.js';
import type { FakeSlackMessage } from './store.js';
import { type ApiReply, bool, fail, ok, type Params, str } from './wire.js';

/** A message posted by the app's bot user. */
export function botMessage(
  state: SlackState,
  fields: Pick<FakeSlackMessage, 'channel' | 'text'> & Partial<FakeSlackMessage>,
): FakeSlackMessage {
  const { bot } = state.workspace;
  return {
    ts: state.clock.next(),
    user: bot.userId,
    botId: bot.botId,
    appId: bot.appId,
    subtype: null,
    blocks: null,
    attachments: null,
    threadTs: null,
    replyBroadcast: false,
    metadata: null,
    unfurlLinks: null,
    unfurlMedia: null,
    edited: null,
    reactions: [],
    clientMsgId: null,
    via: 'api',
    postedAt: state.now(),
    ...fields,
  };
}

/**
 * chat.postMessage. A `thread_ts` that is not a top-level message is accepted (ok: true)
 * yet the reply shows in no thread, as Slack does.
 */
export function postMessage(state: SlackState, params: Params): ApiReply {
  const channel = access(state, params, 'write');
  if (isReply(channel)) return channel;
  const content = parseContent(params, true);
  if (isReply(content)) return content;
  const metadata = parseMetadata(params);
  if (isReply(metadata)) return metadata;
  const threadTs = str(params, 'thread_ts') || null;
  const broadcast = threadTs !== null && bool(params, 'reply_broadcast') === true;
  const message = botMessage(state, {
    channel: channel.id,
    text: content.text ?? '',
    blocks: content.blocks ?? null,
    attachments: content.attachments ?? null,
    threadTs,
    replyBroadcast: broadcast,
    subtype: broadcast ? 'thread_broadcast' : null,
    metadata: metadata ?? null,
    unfurlLinks: bool(params, 'unfurl_links') ?? null,
    unfurlMedia: bool(params, 'unfurl_media') ?? null,
  });
  state.store.add(message);
  state.hooks.posted(message);
  return ok({ channel: channel.id, ts: message.ts, message: toJson(state, message, true) });
}

function ownMessage(
  state: SlackState,
  params: Params,
  refusal: string,
): { message: FakeSlackMessage; channel: string } | ApiReply {
  const channel = access(state, params, 'write');
  if (isReply(channel)) return channel;
  const ts = str(params, 'ts');
  const message = ts ? state.store.get(channel.id, ts) : undefined;
  if (!message || message.subtype === 'tombstone') return fail('message_not_found');
  if (message.botId !== state.workspace.bot.botId) return fail(refusal);
  return { message, channel: channel.id };
}

/** chat.update: omitted `blocks`/`attachments` are kept; an empty array removes them. */
export function updateMessage(state: SlackState, params: Params): ApiReply {
  const found = ownMessage(state, params, 'cant_update_message');
  if (isReply(found)) return found;
  const content = parseContent(params, true);
  if (isReply(content)) return content;
  const metadata = parseMetadata(params);
  if (isReply(metadata)) return metadata;
  const { message } = found;
  const previous = { ...message, reactions: [...message.reactions] };
  if (content.text !== undefined) message.text = content.text;
  if (content.blocks !== undefined) message.blocks = content.blocks;
  if (content.attachments !== undefined) message.attachments = content.attachments;
  if (metadata !== undefined) message.metadata = metadata;
  message.edited = { user: state.workspace.bot.userId, ts: state.clock.next() };
  state.hooks.changed(previous, message);
  return ok({
    channel: found.channel,
    ts: message.ts,
    text: message.text,
    message: toJson(state, message, true),
  });
}

export function deleteMessage(state: SlackState, params: Params): ApiReply {
  const found = ownMessage(state, params, 'cant_delete_message');
  if (isReply(found)) return found;
  const previous = { ...found.message };
  state.store.delete(found.channel, found.message.ts);
  state.hooks.deleted(previous);
  return ok({ channel: found.channel, ts: found.message.ts });
}

/** chat.postEphemeral: seen only by `user`, who must be in the conversation. */
export function postEphemeral(state: SlackState, params: Params): ApiReply {
  const channel = access(state, params, 'write');
  if (isReply(channel)) return channel;
  const user = str(params, 'user');
  if (!user || !state.workspace.user(user)) return fail('user_not_found');
  if (!channel.members.has(user)) return fail('user_not_in_channel');
  const content = parseContent(params, true);
  if (isReply(content)) return content;
  const messageTs = state.clock.next();
  state.store.addEphemeral({
    channel: channel.id,
    user,
    text: content.text ?? '',
    blocks: content.blocks ?? null,
    threadTs: str(params, 'thread_ts') || null,
    messageTs,
    via: 'api',
    at: state.now(),
  });
  return ok({ message_ts: messageTs });
}
