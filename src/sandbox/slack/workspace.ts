import { slackId } from './wire.js';

/** A person (or bot) in the fake workspace. */
export interface SlackUserSpec {
  readonly id: string;
  /** The handle (`name` in users.info), e.g. `amy.hughes`. */
  readonly name: string;
  readonly realName: string;
  readonly tz?: string;
  readonly title?: string;
  readonly email?: string;
  readonly deleted?: boolean;
  readonly isBot?: boolean;
}

export interface SlackChannelSpec {
  readonly id: string;
  /** Without the `#`. */
  readonly name: string;
  /**
   * Private (the default, as a hand-off channel must be: checklist 92); false makes a public
   * channel, which Linkline refuses to post participant details to.
   */
  readonly isPrivate?: boolean;
  /** User ids; include the bot user for the app to be able to post or read. */
  readonly members: readonly string[];
  readonly topic?: string;
  readonly purpose?: string;
  readonly isArchived?: boolean;
}

export interface TeamSpec {
  readonly id: string;
  readonly name: string;
  readonly domain: string;
}

export interface BotSpec {
  readonly userId: string;
  readonly botId: string;
  readonly appId: string;
  readonly name: string;
}

export type ChannelKind = 'channel' | 'group' | 'im' | 'mpim';

export interface Channel {
  readonly id: string;
  readonly name: string;
  readonly kind: ChannelKind;
  readonly isPrivate: boolean;
  readonly members: Set<string>;
  readonly created: number;
  readonly creator: string;
  readonly topic: string;
  readonly purpose: string;
  readonly isArchived: boolean;
}

export const SANDBOX_TEAM: TeamSpec = {
  id: 'T0LINKLINE',
  name: 'Linkline Sandbox',
  domain: 'linkline-sandbox',
};

export const SANDBOX_BOT: BotSpec = {
  userId: 'U0LINKBOT1',
  botId: 'B0LINKBOT1',
  appId: 'A0LINKAPP1',
  name: 'linkline',
};

/** Two link workers, an activity lead, a coordinator outside the link-worker group. */
export const SANDBOX_USERS: readonly SlackUserSpec[] = [
  { id: 'U0LWAMY001', name: 'amy.hughes', realName: 'Amy Hughes', title: 'Link worker' },
  { id: 'U0LWRAJ002', name: 'raj.patel', realName: 'Raj Patel', title: 'Link worker' },
  { id: 'U0LEADSAM3', name: 'sam.okafor', realName: 'Sam Okafor', title: 'Activity lead' },
  { id: 'U0COORDJO4', name: 'jo.evans', realName: 'Jo Evans', title: 'Practice coordinator' },
];

const [AMY, RAJ, SAM, JO] = SANDBOX_USERS.map((u) => u.id) as [string, string, string, string];
const BOT = SANDBOX_BOT.userId;

export const SANDBOX_CHANNELS: readonly SlackChannelSpec[] = [
  { id: 'C0HANDOFFS', name: 'linkline-handoffs', isPrivate: true, members: [AMY, RAJ, BOT] },
  { id: 'C0REFERRAL', name: 'linkline-referrals', isPrivate: true, members: [AMY, RAJ, BOT] },
  { id: 'C0LEADS001', name: 'activity-leads', isPrivate: false, members: [SAM, AMY, BOT] },
  { id: 'C0GENERAL1', name: 'general', isPrivate: false, members: [AMY, RAJ, SAM, JO] },
];

export interface WorkspaceOptions {
  readonly team: TeamSpec;
  readonly bot: BotSpec;
  readonly users: readonly SlackUserSpec[];
  readonly channels: readonly SlackChannelSpec[];
  readonly now: () => Date;
}

/** Who and what is in the fake workspace: users, channels (with members), DMs. */
export class Workspace {
  readonly #users = new Map<string, SlackUserSpec>();
  readonly #channels = new Map<string, Channel>();
  readonly #dms = new Map<string, string>();

  constructor(readonly options: WorkspaceOptions) {
    const botUser = { id: options.bot.userId, name: options.bot.name, realName: 'Linkline' };
    for (const u of [...options.users, { ...botUser, isBot: true }]) this.#users.set(u.id, u);
    for (const c of options.channels) this.addChannel(c);
  }

  get team(): TeamSpec {
    return this.options.team;
  }

  get bot(): BotSpec {
    return this.options.bot;
  }

  user(id: string): SlackUserSpec | undefined {
    return this.#users.get(id);
  }

  users(): SlackUserSpec[] {
    return [...this.#users.values()];
  }

  addChannel(spec: SlackChannelSpec): Channel {
    const isPrivate = spec.isPrivate ?? true;
    const channel: Channel = {
      id: spec.id,
      name: spec.name,
      kind: isPrivate ? 'group' : 'channel',
      isPrivate,
      members: new Set(spec.members),
      created: Math.floor(this.options.now().getTime() / 1000) - 86_400,
      creator: spec.members[0] ?? this.bot.userId,
      topic: spec.topic ?? '',
      purpose: spec.purpose ?? '',
      isArchived: spec.isArchived ?? false,
    };
    this.#channels.set(channel.id, channel);
    return channel;
  }

  channel(id: string): Channel | undefined {
    return this.#channels.get(id);
  }

  channels(): Channel[] {
    return [...this.#channels.values()];
  }

  /**
   * What `chat.postMessage`'s `channel` may be: an id, a `#name` or name, or a user id
   * (which means the bot's DM with that user).
   */
  resolve(ref: string): Channel | undefined {
    const byId = this.#channels.get(ref);
    if (byId) return byId;
    if (/^[UW][A-Z0-9]+$/.test(ref) && this.#users.has(ref)) return this.openDm([ref]).channel;
    const name = ref.replace(/^#/, '');
    return this.channels().find((c) => c.kind !== 'im' && c.name === name);
  }

  /** The bot's DM (or group DM) with these users; opened once, then the same id. */
  openDm(userIds: readonly string[]): { channel: Channel; existed: boolean } {
    const key = [...new Set(userIds)].sort().join(',');
    const known = this.#dms.get(key);
    const existing = known ? this.#channels.get(known) : undefined;
    if (existing) return { channel: existing, existed: true };
    const single = userIds.length === 1;
    const id = slackId(single ? 'D' : 'C');
    const channel: Channel = {
      ...this.addChannel({
        id,
        name: single ? id : `mpdm-${key.replaceAll(',', '--')}-1`,
        isPrivate: true,
        members: [this.bot.userId, ...userIds],
      }),
      kind: single ? 'im' : 'mpim',
    };
    this.#channels.set(id, channel);
    this.#dms.set(key, id);
    return { channel, existed: false };
  }

  /** The other person in a DM with the bot. */
  dmUser(channel: Channel): string | undefined {
    return [...channel.members].find((m) => m !== this.bot.userId);
  }

  botCanSee(channel: Channel): boolean {
    return !channel.isPrivate || channel.members.has(this.bot.userId);
  }
}
