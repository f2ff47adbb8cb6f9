import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { AMY, clientFor, failure, HANDOFFS, LEADS } from './fixtures.js';

let fake: SlackFake;
let client: WebClient;

beforeEach(async () => {
  fake = await startSlackFake();
  client = clientFor(fake);
});
afterEach(() => fake.stop());

const _TS = /^\d{10}\.\d{6}$/;
const _tsNumber = (ts: string) => Number(ts);

describe('conversations and users', () => {
  it('opens one DM per user and says so the second time', async () => {
    const first = await client.conversations.open({ users: AMY });
    const again = await client.conversations.open({ users: AMY });
    expect(first.channel?.id).toMatch(/^D[A-Z0-9]+$/);
    expect(again).toMatchObject({
      ok: true,
      no_op: true,
      already_open: true,
      channel: { id: first.channel?.id },
    });
    const error = await failure(client.conversations.open({ users: 'U0NOBODY1' }));
    expect(error.data).toMatchObject({ error: 'user_not_found' });
  });

  it('describes channels, private or not', async () => {
    const info = await client.conversations.info({ channel: HANDOFFS });
    expect(info.channel).toMatchObject({
      id: HANDOFFS,
      name: 'linkline-handoffs',
      is_private: true,
      is_member: true,
    });
    const leads = await client.conversations.info({ channel: LEADS });
    expect(leads.channel).toMatchObject({ is_private: false, is_channel: true });
    const dm = await client.conversations.info({ channel: fake.dmWith(AMY) });
    expect(dm.channel).toMatchObject({ is_im: true, user: AMY });
  });

  it('channels it is given are private unless made public; conversations.list shows what the bot can see', async () => {
    fake.addChannel({ id: 'C0NEWPRIV1', name: 'new-private', members: [AMY, fake.bot.userId] });
    fake.addChannel({ id: 'C0NOTMINE1', name: 'not-mine', members: [AMY] });
    fake.addChannel({ id: 'C0NEWPUB01', name: 'new-public', isPrivate: false, members: [AMY] });
    expect((await client.conversations.info({ channel: 'C0NEWPRIV1' })).channel).toMatchObject({
      is_private: true,
    });
    const names = async (types: string) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const res = await client.conversations.list({
          types,
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...(res.channels ?? []).map((c) => `${c.name}:${c.is_private}`));
        cursor = res.response_metadata?.next_cursor || undefined;
      } while (cursor);
      return seen.sort();
    };
    expect(await names('public_channel,private_channel')).toEqual([
      'activity-leads:false',
      'general:false',
      'linkline-handoffs:true',
      'linkline-referrals:true',
      'new-private:true',
      'new-public:false',
    ]);
    expect(await names('public_channel')).toHaveLength(3);
  });

  it('conversations.list needs the read scope of each type asked for', async () => {
    const narrow = await startSlackFake({ scopes: ['chat:write', 'channels:read'] });
    try {
      const c = clientFor(narrow);
      expect((await c.conversations.list({ types: 'public_channel' })).ok).toBe(true);
      const error = await failure(
        c.conversations.list({ types: 'public_channel,private_channel' }),
      );
      expect(error.data).toMatchObject({ error: 'missing_scope', needed: 'groups:read' });
    } finally {
      await narrow.stop();
    }
  });

  it('returns users with names and time zones', async () => {
    const { user } = await client.users.info({ user: AMY });
    expect(user).toMatchObject({
      id: AMY,
      name: 'amy.hughes',
      real_name: 'Amy Hughes',
      tz: 'Europe/London',
      is_bot: false,
      profile: { first_name: 'Amy', last_name: 'Hughes', title: 'Link worker' },
    });
    expect([0, 3600]).toContain(user?.tz_offset);
    expect((await failure(client.users.info({ user: 'U0NOBODY1' }))).data).toMatchObject({
      error: 'user_not_found',
    });
  });

  it('pages history with cursors, newest first', async () => {
    for (const text of ['1', '2', '3', '4', '5'])
      await client.chat.postMessage({ channel: HANDOFFS, text });
    const first = await client.conversations.history({ channel: HANDOFFS, limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['5', '4']);
    expect(first.has_more).toBe(true);
    const cursor = first.response_metadata?.next_cursor ?? '';
    const second = await client.conversations.history({ channel: HANDOFFS, limit: 2, cursor });
    expect(second.messages?.map((m) => m.text)).toEqual(['3', '2']);
  });

  it('finds a thread from any reply, and says thread_not_found otherwise', async () => {
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'p' });
    const reply = await client.chat.postMessage({
      channel: HANDOFFS,
      thread_ts: parent.ts ?? '',
      text: 'r',
    });
    const viaReply = await client.conversations.replies({ channel: HANDOFFS, ts: reply.ts ?? '' });
    expect(viaReply.messages?.map((m) => m.text)).toEqual(['p', 'r']);
    const error = await failure(
      client.conversations.replies({ channel: HANDOFFS, ts: '1.000001' }),
    );
    expect(error.data).toMatchObject({ error: 'thread_not_found' });
  });

  it('adds reactions once', async () => {
    const posted = await client.chat.postMessage({ channel: HANDOFFS, text: 'p' });
    await client.reactions.add({
      channel: HANDOFFS,
      timestamp: posted.ts ?? '',
      name: 'white_check_mark',
    });
    const again = await failure(
      client.reactions.add({
        channel: HANDOFFS,
        timestamp: posted.ts ?? '',
        name: 'white_check_mark',
      }),
    );
    expect(again.data).toMatchObject({ error: 'already_reacted' });
    expect(fake.message(HANDOFFS, posted.ts ?? '')?.reactions).toEqual([
      { name: 'white_check_mark', users: [fake.bot.userId] },
    ]);
  });
});

describe('the wire', () => {
  const post = (body: string, headers: Record<string, string>) =>
    fetch(`${fake.apiUrl}chat.postMessage`, { method: 'POST', headers, body }).then(async (r) => ({
      status: r.status,
      json: (await r.json()) as Record<string, unknown>,
    }));

  it('takes JSON with a Bearer token, and warns when the charset is missing', async () => {
    const body = JSON.stringify({
      channel: HANDOFFS,
      text: 'json',
      metadata: { event_type: 'x', event_payload: {} },
    });
    const auth = { Authorization: `Bearer ${fake.botToken}` };
    const withCharset = await post(body, {
      ...auth,
      'Content-Type': 'application/json; charset=utf-8',
    });
    expect(withCharset.json).toMatchObject({ ok: true, channel: HANDOFFS });
    expect(withCharset.json.warning).toBeUndefined();
    const without = await post(body, { ...auth, 'Content-Type': 'application/json' });
    expect(without.json).toMatchObject({
      ok: true,
      warning: 'missing_charset',
      response_metadata: { warnings: ['missing_charset'] },
    });
  });

  it('reads a token from a form but never from a JSON body', async () => {
    const form = new URLSearchParams({
      token: fake.botToken,
      channel: HANDOFFS,
      text: 'form',
    }).toString();
    const formReply = await post(form, { 'Content-Type': 'application/x-www-form-urlencoded' });
    expect(formReply.json).toMatchObject({ ok: true });
    const json = JSON.stringify({ token: fake.botToken, channel: HANDOFFS, text: 'json' });
    const jsonReply = await post(json, { 'Content-Type': 'application/json; charset=utf-8' });
    expect(jsonReply).toEqual({ status: 200, json: { ok: false, error: 'not_authed' } });
  });

  it('answers an unknown method with unknown_method', async () => {
    const error = await failure(client.apiCall('chat.shout', { text: 'x' }));
    expect(error.data).toMatchObject({
      ok: false,
      error: 'unknown_method',
      req_method: 'chat.shout',
    });
  });
});
