import { DateTime } from 'luxon';
import type { SlackState } from './context.js';
import { access, isReply } from './method-checks.js';
import { type ApiReply, fail, ok, type Params, str } from './wire.js';
import type { SlackUserSpec } from './workspace.js';

export function authTest(state: SlackState): ApiReply {
  const { team, bot } = state.workspace;
  return ok({
    url: `https://${team.domain}.slack.com/`,
    team: team.name,
    user: bot.name,
    team_id: team.id,
    user_id: bot.userId,
    bot_id: bot.botId,
    is_enterprise_install: false,
  });
}

const DEFAULT_TZ = 'Europe/London';

function profileJson(state: SlackState, u: SlackUserSpec): Record<string, unknown> {
  const [first = u.realName, ...rest] = u.realName.split(' ');
  const { bot, team } = state.workspace;
  const isBot = u.isBot === true;
  return {
    title: u.title ?? '',
    phone: '',
    real_name: u.realName,
    real_name_normalized: u.realName,
    display_name: isBot ? '' : u.name,
    display_name_normalized: isBot ? '' : u.name,
    first_name: first,
    last_name: rest.join(' '),
    status_text: '',
    status_emoji: '',
    team: team.id,
    ...(isBot ? { bot_id: bot.botId, api_app_id: bot.appId, always_active: false } : {}),
    ...(u.email && state.scopes.includes('users:read.email') ? { email: u.email } : {}),
  };
}

/** A user object as users.info returns it (email only with `users:read.email`). */
export function userJson(state: SlackState, u: SlackUserSpec): Record<string, unknown> {
  const tz = u.tz ?? DEFAULT_TZ;
  const zoned = DateTime.fromJSDate(state.now(), { zone: tz });
  return {
    id: u.id,
    team_id: state.workspace.team.id,
    name: u.name,
    deleted: u.deleted ?? false,
    real_name: u.realName,
    tz,
    tz_label: zoned.offsetNameLong ?? tz,
    tz_offset: zoned.offset * 60,
    profile: profileJson(state, u),
    is_admin: false,
    is_owner: false,
    is_primary_owner: false,
    is_restricted: false,
    is_ultra_restricted: false,
    is_bot: u.isBot === true,
    is_app_user: false,
    updated: Math.floor(state.now().getTime() / 1000) - 86_400,
    is_email_confirmed: u.isBot !== true,
  };
}

export function usersInfo(state: SlackState, params: Params): ApiReply {
  const id = str(params, 'user');
  const user = id ? state.workspace.user(id) : undefined;
  if (!user) return fail('user_not_found');
  return ok({ user: userJson(state, user) });
}

export function addReaction(state: SlackState, params: Params): ApiReply {
  const channel = access(state, params, 'read');
  if (isReply(channel)) return channel;
  const name = (str(params, 'name') ?? '').replace(/^:|:$/g, '');
  if (!name) return fail('invalid_name');
  const ts = str(params, 'timestamp');
  const message = ts ? state.store.get(channel.id, ts) : undefined;
  if (!message) return fail('message_not_found');
  const botUser = state.workspace.bot.userId;
  const reaction = message.reactions.find((r) => r.name === name);
  if (reaction?.users.includes(botUser)) return fail('already_reacted');
  if (reaction) reaction.users.push(botUser);
  else message.reactions.push({ name, users: [botUser] });
  return ok();
}
