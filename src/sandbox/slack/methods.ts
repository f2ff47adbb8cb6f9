import type { SlackState } from './context.js';
import { deleteMessage, postEphemeral, postMessage, updateMessage } from './methods-chat.js';
import {
  conversationInfo,
  history,
  listConversations,
  openConversation,
  replies,
} from './methods-conversations.js';
import { addReaction, authTest, usersInfo } from './methods-misc.js';
import { openView, publishView, pushView, updateView } from './methods-views.js';
import type { ApiReply, Params } from './wire.js';

/** A Web API method the fake implements. */
export interface MethodSpec {
  /** The scope checked up front (null: none, or checked by the method per conversation kind). */
  readonly scope: string | null;
  /** `X-Accepted-OAuth-Scopes`, as Slack sends it. */
  readonly accepted: string;
  readonly run: (state: SlackState, params: Params) => ApiReply;
}

const HISTORY = 'channels:history,groups:history,mpim:history,im:history';
const READ = 'channels:read,groups:read,mpim:read,im:read';
const CHAT = 'chat:write';

export const METHODS: Readonly<Record<string, MethodSpec>> = {
  'auth.test': { scope: null, accepted: '', run: (state) => authTest(state) },
  'chat.postMessage': { scope: CHAT, accepted: CHAT, run: postMessage },
  'chat.update': { scope: CHAT, accepted: CHAT, run: updateMessage },
  'chat.delete': { scope: CHAT, accepted: CHAT, run: deleteMessage },
  'chat.postEphemeral': { scope: CHAT, accepted: CHAT, run: postEphemeral },
  'conversations.open': {
    scope: null,
    accepted: 'channels:manage,groups:write,im:write,mpim:write',
    run: openConversation,
  },
  'conversations.replies': { scope: null, accepted: HISTORY, run: replies },
  'conversations.history': { scope: null, accepted: HISTORY, run: history },
  'conversations.info': { scope: null, accepted: READ, run: conversationInfo },
  'conversations.list': { scope: null, accepted: READ, run: listConversations },
  'users.info': { scope: 'users:read', accepted: 'users:read', run: usersInfo },
  'reactions.add': { scope: 'reactions:write', accepted: 'reactions:write', run: addReaction },
  'views.open': { scope: null, accepted: '', run: openView },
  'views.push': { scope: null, accepted: '', run: pushView },
  'views.update': { scope: null, accepted: '', run: updateView },
  'views.publish': { scope: null, accepted: '', run: publishView },
};

/** The scopes of the sandbox app's bot token (what Linkline's manifest asks for). */
export const DEFAULT_BOT_SCOPES: readonly string[] = [
  'chat:write',
  'commands',
  'channels:history',
  'groups:history',
  'im:history',
  'mpim:history',
  'channels:read',
  'groups:read',
  'im:read',
  'mpim:read',
  'im:write',
  'mpim:write',
  'users:read',
  'reactions:write',
];
