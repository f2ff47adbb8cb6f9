/**
 * What the Slack pane shows, read from the Slack fake as Slack would show it to a person:
 * conversations with their messages, threads under their parents, blocks as posted. Names
 * come from the fake's own Web API (conversations.info), as a client would get them.
 */
import type { FakeSlackMessage, SlackFake } from '../slack/index.js';

export interface PaneMessage {
  ts: string;
  user: string | null;
  author: string;
  isBot: boolean;
  text: string;
  blocks: unknown[] | null;
  edited: boolean;
  replies: PaneMessage[];
}

export interface PaneChannel {
  id: string;
  name: string;
  messages: PaneMessage[];
}

/** "Only visible to you" messages, shown to the person they were for. */
export interface PaneEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks: unknown[] | null;
  threadTs: string | null;
  /** `command_ack`: the answer to a slash command. */
  via: string;
}

/** A published App Home tab, or the top modal of a person's open stack. */
export interface PaneView {
  id: string;
  user: string;
  hash: string;
  title: string | null;
  submit: string | null;
  blocks: unknown[];
}

export interface SlackPane {
  users: { id: string; name: string; title: string | null }[];
  channels: PaneChannel[];
  ephemerals: PaneEphemeral[];
  homes: PaneView[];
  modals: PaneView[];
}

function paneView(v: ReturnType<SlackFake['views']>[number]): PaneView {
  const text = (t: unknown) =>
    t && typeof t === 'object' && 'text' in t ? String((t as { text: unknown }).text) : null;
  return {
    id: v.id,
    user: v.user,
    hash: v.hash,
    title: text(v.view.title),
    submit: text(v.view.submit),
    blocks: Array.isArray(v.view.blocks) ? v.view.blocks : [],
  };
}

/** Published homes, and for each person the modal on top of their open stack. */
function paneViews(fake: SlackFake): Pick<SlackPane, 'homes' | 'modals'> {
  const views = fake.views();
  const homes = views.filter((v) => v.type === 'home').map(paneView);
  const top = new Map<string, PaneView>();
  for (const v of views.filter((x) => x.type === 'modal' && x.status === 'open'))
    top.set(v.user, paneView(v));
  return { homes, modals: [...top.values()] };
}

type Info = { ok: boolean; channel?: { name?: string; is_im?: boolean; user?: string } };

async function channelName(fake: SlackFake, id: string, names: Map<string, string>) {
  const known = names.get(id);
  if (known) return known;
  const res = await fetch(`${fake.apiUrl}conversations.info`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${fake.botToken}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ channel: id }).toString(),
  });
  const info = (await res.json()) as Info;
  const people = new Map(fake.users().map((u) => [u.id, u.realName]));
  const name = !info.ok
    ? id
    : info.channel?.is_im
      ? `Linkline ↔ ${people.get(info.channel.user ?? '') ?? 'someone'}`
      : `#${info.channel?.name ?? id}`;
  names.set(id, name);
  return name;
}

function paneMessage(m: FakeSlackMessage, people: Map<string, string>, botUser: string) {
  const isBot = m.botId !== null || m.user === botUser;
  return {
    ts: m.ts,
    user: m.user,
    author: isBot ? 'Linkline' : (people.get(m.user ?? '') ?? m.user ?? 'someone'),
    isBot,
    text: m.text,
    blocks: m.blocks,
    edited: m.edited !== null,
    replies: [] as PaneMessage[],
  };
}

/** Every conversation that has messages, parents with their replies, oldest first. */
export async function slackPane(fake: SlackFake, names: Map<string, string>): Promise<SlackPane> {
  const people = new Map(fake.users().map((u) => [u.id, u.realName]));
  const byChannel = new Map<string, FakeSlackMessage[]>();
  for (const m of fake.messages())
    byChannel.set(m.channel, [...(byChannel.get(m.channel) ?? []), m]);
  const channels: PaneChannel[] = [];
  for (const [id, list] of byChannel) {
    const parents = new Map<string, PaneMessage>();
    const messages: PaneMessage[] = [];
    for (const m of list) {
      const shown = paneMessage(m, people, fake.bot.userId);
      const parent = m.threadTs && m.threadTs !== m.ts ? parents.get(m.threadTs) : undefined;
      if (parent) parent.replies.push(shown);
      else {
        parents.set(m.ts, shown);
        messages.push(shown);
      }
    }
    channels.push({ id, name: await channelName(fake, id, names), messages });
  }
  const users = fake
    .users()
    .filter((u) => !u.isBot && !u.deleted)
    .map((u) => ({ id: u.id, name: u.realName, title: u.title ?? null }));
  const ephemerals = fake.ephemerals().map((e) => ({
    channel: e.channel,
    user: e.user,
    text: e.text,
    blocks: e.blocks,
    threadTs: e.threadTs,
    via: e.via,
  }));
  return { users, channels, ephemerals, ...paneViews(fake) };
}
