import { type SlackState, toJson } from './context.js';
import { access, isReply, needScope, readScope } from './method-checks.js';
import { type FakeSlackMessage, isTopLevel } from './store.js';
import {
  type ApiReply,
  bool,
  compareTs,
  decodeCursor,
  encodeCursor,
  fail,
  int,
  list,
  ok,
  type Params,
  str,
} from './wire.js';
import type { Channel } from './workspace.js';

const MAX_DM_USERS = 8;

/** A conversation object as conversations.info / open(return_im) show it. */
export function channelJson(state: SlackState, c: Channel): Record<string, unknown> {
  const { team, bot } = state.workspace;
  const base = {
    id: c.id,
    created: c.created,
    is_archived: c.isArchived,
    context_team_id: team.id,
  };
  if (c.kind === 'im') {
    const user = state.workspace.dmUser(c);
    return { ...base, is_im: true, is_org_shared: false, user, is_user_deleted: false };
  }
  const about = (value: string) => ({ value, creator: value ? c.creator : '', last_set: 0 });
  return {
    ...base,
    name: c.name,
    name_normalized: c.name,
    is_channel: c.kind === 'channel' || c.kind === 'group',
    is_group: false,
    is_im: false,
    is_mpim: c.kind === 'mpim',
    is_private: c.isPrivate,
    is_general: c.name === 'general',
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    is_member: c.members.has(bot.userId),
    creator: c.creator,
    topic: about(c.topic),
    purpose: about(c.purpose),
    previous_names: [],
    num_members: c.members.size,
  };
}

export function openConversation(state: SlackState, params: Params): ApiReply {
  const users = list(str(params, 'users'));
  if (users.length === 0) return fail('users_list_not_supplied');
  if (users.length > MAX_DM_USERS) return fail('too_many_users');
  if (users.some((u) => !state.workspace.user(u))) return fail('user_not_found');
  const missing = needScope(state, users.length === 1 ? 'im:write' : 'mpim:write');
  if (missing) return missing;
  const { channel, existed } = state.workspace.openDm(users);
  const shown = bool(params, 'return_im') ? channelJson(state, channel) : { id: channel.id };
  return ok({ ...(existed ? { no_op: true, already_open: true } : {}), channel: shown });
}

export function conversationInfo(state: SlackState, params: Params): ApiReply {
  const ref = str(params, 'channel');
  const channel = ref ? state.workspace.channel(ref) : undefined;
  if (!channel || !state.workspace.botCanSee(channel)) return fail('channel_not_found');
  const missing = needScope(state, readScope(channel.kind, 'read'));
  return missing ?? ok({ channel: channelJson(state, channel) });
}

const LIST_TYPES = {
  public_channel: 'channel',
  private_channel: 'group',
  mpim: 'mpim',
  im: 'im',
} as const;

/**
 * The conversations the bot can see, of the `types` asked (default `public_channel`): every
 * public channel, the private ones and DMs it is a member of (botCanSee); each type needs its read scope.
 */
export function listConversations(state: SlackState, params: Params): ApiReply {
  const types = list(str(params, 'types') || 'public_channel');
  const kinds: string[] = [];
  for (const type of types) {
    const kind = LIST_TYPES[type as keyof typeof LIST_TYPES];
    if (!kind) return fail('invalid_types');
    const missing = needScope(state, readScope(kind, 'read'));
    if (missing) return missing;
    kinds.push(kind);
  }
  const archived = bool(params, 'exclude_archived') !== true;
  const all = state.workspace
    .channels()
    .filter((c) => kinds.includes(c.kind) && state.workspace.botCanSee(c))
    .filter((c) => archived || !c.isArchived);
  const offset = decodeCursor(str(params, 'cursor'));
  if (offset === null) return fail('invalid_cursor');
  const limit = Math.min(Math.max(int(params, 'limit') ?? 100, 1), 1000);
  const next = offset + limit < all.length ? encodeCursor(offset + limit) : '';
  return ok({
    channels: all.slice(offset, offset + limit).map((c) => channelJson(state, c)),
    response_metadata: { next_cursor: next },
  });
}

/** `oldest` / `latest` / `inclusive`, as history and replies apply them. */
function inWindow(params: Params): (m: FakeSlackMessage) => boolean {
  const oldest = str(params, 'oldest') || '0';
  const latest = str(params, 'latest') || null;
  const inclusive = bool(params, 'inclusive') === true;
  return (m) => {
    const afterOldest = compareTs(m.ts, oldest);
    const beforeLatest = latest === null ? -1 : compareTs(m.ts, latest);
    return inclusive ? afterOldest >= 0 && beforeLatest <= 0 : afterOldest > 0 && beforeLatest < 0;
  };
}

function page(
  state: SlackState,
  params: Params,
  messages: FakeSlackMessage[],
  defaultLimit: number,
): ApiReply {
  const offset = decodeCursor(str(params, 'cursor'));
  if (offset === null) return fail('invalid_cursor');
  const limit = Math.min(Math.max(int(params, 'limit') ?? defaultLimit, 1), 999);
  const slice = messages.slice(offset, offset + limit);
  const hasMore = offset + limit < messages.length;
  const metadata = bool(params, 'include_all_metadata') === true;
  return ok({
    messages: slice.map((m) => toJson(state, m, metadata)),
    has_more: hasMore,
    ...(hasMore ? { response_metadata: { next_cursor: encodeCursor(offset + limit) } } : {}),
  });
}

function readable(state: SlackState, params: Params): Channel | ApiReply {
  const channel = access(state, params, 'read');
  if (isReply(channel)) return channel;
  return needScope(state, readScope(channel.kind, 'history')) ?? channel;
}

/** Top-level messages (and broadcast replies), newest first. */
export function history(state: SlackState, params: Params): ApiReply {
  const channel = readable(state, params);
  if (isReply(channel)) return channel;
  const messages = state.store.topLevel(channel.id).filter(inWindow(params)).reverse();
  const reply = page(state, params, messages, 100);
  return { body: { ...reply.body, pin_count: 0, channel_actions_ts: null } };
}

/** A thread, parent first; `ts` may name the parent or any reply in it. */
export function replies(state: SlackState, params: Params): ApiReply {
  const channel = readable(state, params);
  if (isReply(channel)) return channel;
  const ts = str(params, 'ts');
  if (!ts) return fail('invalid_arguments', {}, ['[ERROR] missing required field: ts']);
  const named = state.store.get(channel.id, ts);
  const parentTs = named && !isTopLevel(named) ? named.threadTs : ts;
  const thread = parentTs ? state.store.thread(channel.id, parentTs) : [];
  if (thread.length === 0) return fail('thread_not_found');
  const [parent, ...rest] = thread;
  const shown = parent ? [parent, ...rest.filter(inWindow(params))] : [];
  return page(state, params, shown, 1000);
}
