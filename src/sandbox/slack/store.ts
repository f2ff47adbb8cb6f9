import { compareTs } from './wire.js';

/** Message metadata as `chat.postMessage` takes it and `include_all_metadata` returns it. */
export interface MessageMetadata {
  readonly event_type: string;
  readonly event_payload: Record<string, unknown>;
}

/** One message as the fake holds it; outsiders get copies. */
export interface FakeSlackMessage {
  readonly channel: string;
  readonly ts: string;
  /** The author: a person, or the bot's user id for the app's posts. */
  user: string | null;
  botId: string | null;
  appId: string | null;
  subtype: string | null;
  text: string;
  blocks: unknown[] | null;
  attachments: unknown[] | null;
  /** Set on replies (the parent's ts); also on a parent once it has replies. */
  threadTs: string | null;
  replyBroadcast: boolean;
  metadata: MessageMetadata | null;
  unfurlLinks: boolean | null;
  unfurlMedia: boolean | null;
  edited: { readonly user: string; readonly ts: string } | null;
  reactions: { name: string; users: string[] }[];
  clientMsgId: string | null;
  /** How it got there: the Web API, a person typing (the fake's helpers), or a response_url. */
  readonly via: 'api' | 'user' | 'response_url';
  readonly postedAt: Date;
}

export interface EphemeralRecord {
  readonly channel: string;
  readonly user: string;
  readonly text: string;
  readonly blocks: unknown[] | null;
  readonly threadTs: string | null;
  readonly messageTs: string;
  readonly via: 'api' | 'response_url' | 'command_ack';
  readonly at: Date;
}

/** Everything posted in the workspace, per channel, in ts order. */
export class MessageStore {
  readonly #byChannel = new Map<string, FakeSlackMessage[]>();
  readonly #ephemerals: EphemeralRecord[] = [];

  add(message: FakeSlackMessage): void {
    const list = this.#byChannel.get(message.channel) ?? [];
    list.push(message);
    list.sort((a, b) => compareTs(a.ts, b.ts));
    this.#byChannel.set(message.channel, list);
  }

  get(channel: string, ts: string): FakeSlackMessage | undefined {
    return this.#byChannel.get(channel)?.find((m) => m.ts === ts);
  }

  /** Every message of the channel (parents and replies), oldest first. */
  all(channel: string): FakeSlackMessage[] {
    return [...(this.#byChannel.get(channel) ?? [])];
  }

  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  /** A message that has no thread, or starts one (what conversations.history lists). */
  topLevel(channel: string): FakeSlackMessage[] {
    return this.all(channel).filter((m) => isTopLevel(m) || m.replyBroadcast);
  }

  /** The parent and its replies, or nothing when `ts` is not a message that can hold a thread. */
  thread(channel: string, ts: string): FakeSlackMessage[] {
    const parent = this.get(channel, ts);
    if (!parent || !isTopLevel(parent)) return [];
    return [parent, ...this.replies(channel, ts)];
  }

  replies(channel: string, parentTs: string): FakeSlackMessage[] {
    return this.all(channel).filter((m) => m.threadTs === parentTs && m.ts !== parentTs);
  }

  /** Removes a message; a parent with replies stays as Slack's "This message was deleted." */
  delete(channel: string, ts: string): void {
    const list = this.#byChannel.get(channel) ?? [];
    const message = list.find((m) => m.ts === ts);
    if (!message) return;
    if (isTopLevel(message) && this.replies(channel, ts).length > 0) {
      Object.assign(message, tombstone());
      return;
    }
    this.#byChannel.set(
      channel,
      list.filter((m) => m !== message),
    );
  }

  addEphemeral(record: EphemeralRecord): void {
    this.#ephemerals.push(record);
  }

  ephemerals(): EphemeralRecord[] {
    return [...this.#ephemerals];
  }
}

export function isTopLevel(m: FakeSlackMessage): boolean {
  return m.threadTs === null || m.threadTs === m.ts;
}

function tombstone(): Partial<FakeSlackMessage> {
  return {
    subtype: 'tombstone',
    text: 'This message was deleted.',
    user: 'USLACKBOT',
    botId: null,
    appId: null,
    blocks: null,
    attachments: null,
    metadata: null,
  };
}

/** Thread fields Slack adds to a parent: counts, who replied, the latest reply. */
export function threadSummary(store: MessageStore, m: FakeSlackMessage): Record<string, unknown> {
  const replies = store.replies(m.channel, m.ts);
  if (replies.length === 0) return {};
  const users = [...new Set(replies.map((r) => r.user).filter((u): u is string => !!u))];
  return {
    thread_ts: m.ts,
    reply_count: replies.length,
    reply_users_count: users.length,
    latest_reply: replies.at(-1)?.ts,
    reply_users: users,
    is_locked: false,
    subscribed: false,
  };
}

export interface MessageJsonOptions {
  readonly teamId: string;
  readonly metadata: boolean;
  readonly botProfile?: Record<string, unknown>;
}

/** A message as the Web API and events show it. */
export function messageJson(
  store: MessageStore,
  m: FakeSlackMessage,
  options: MessageJsonOptions,
): Record<string, unknown> {
  const json: Record<string, unknown> = { type: 'message', ts: m.ts, text: m.text };
  if (m.subtype) json.subtype = m.subtype;
  if (m.user) json.user = m.user;
  if (m.botId) json.bot_id = m.botId;
  if (m.appId) json.app_id = m.appId;
  if (m.botId && options.botProfile) json.bot_profile = options.botProfile;
  if (m.clientMsgId) json.client_msg_id = m.clientMsgId;
  json.team = options.teamId;
  if (m.blocks) json.blocks = m.blocks;
  if (m.attachments) json.attachments = m.attachments;
  if (m.edited) json.edited = m.edited;
  if (m.reactions.length > 0) {
    json.reactions = m.reactions.map((r) => ({ ...r, count: r.users.length }));
  }
  if (options.metadata && m.metadata) json.metadata = m.metadata;
  if (m.threadTs && m.threadTs !== m.ts) {
    json.thread_ts = m.threadTs;
    const parent = store.get(m.channel, m.threadTs);
    if (parent?.user) json.parent_user_id = parent.user;
  } else {
    Object.assign(json, threadSummary(store, m));
  }
  return json;
}
