import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { AMY, clientFor, failure, GENERAL, HANDOFFS, LEADS, RAJ } from './fixtures.js';

let fake: SlackFake;
let client: WebClient;

beforeEach(async () => {
  fake = await startSlackFake();
  client = clientFor(fake);
});
afterEach(() => fake.stop());

const TS = /^\d{10}\.\d{6}$/;
const tsNumber = (ts: string) => Number(ts);

describe('auth', () => {
  it('auth.test names the bot, and scopes come back in response_metadata', async () => {
    const result = await client.auth.test();
    expect(result).toMatchObject({
      ok: true,
      url: 'https://linkline-sandbox.slack.com/',
      team: 'Linkline Sandbox',
      team_id: fake.team.id,
      user_id: fake.bot.userId,
      bot_id: fake.bot.botId,
    });
    expect(result.response_metadata?.scopes).toContain('chat:write');
  });

  it('answers a wrong token with invalid_auth, HTTP 200, as Slack does', async () => {
    const error = await failure(
      clientFor(fake, {}, 'xoxb-wrong').chat.postMessage({ channel: HANDOFFS, text: 'x' }),
    );
    expect(error.code).toBe('slack_webapi_platform_error');
    expect(error.data).toMatchObject({ ok: false, error: 'invalid_auth' });
    expect(fake.calls('chat.postMessage')[0]).toMatchObject({
      outcome: 200,
      ok: false,
      error: 'invalid_auth',
    });
    expect(fake.messages()).toHaveLength(0);
  });

  it('answers no token with not_authed, and a revoked one with token_revoked', async () => {
    const none = await failure(clientFor(fake, {}, '').auth.test());
    expect(none.data).toMatchObject({ error: 'not_authed' });
    await fake.stop();
    fake = await startSlackFake({ revokedTokens: ['xoxb-old'] });
    const revoked = await failure(clientFor(fake, {}, 'xoxb-old').auth.test());
    expect(revoked.data).toMatchObject({ error: 'token_revoked' });
  });

  it('refuses a method the token has no scope for with missing_scope', async () => {
    await fake.stop();
    fake = await startSlackFake({ scopes: ['chat:write'] });
    const error = await failure(clientFor(fake).users.info({ user: AMY }));
    expect(error.data).toMatchObject({
      error: 'missing_scope',
      needed: 'users:read',
      provided: 'chat:write',
    });
  });
});

describe('chat.postMessage', () => {
  it('posts and returns channel, an increasing ts and the message', async () => {
    const first = await client.chat.postMessage({ channel: HANDOFFS, text: 'Hand-off: P-0042' });
    const second = await client.chat.postMessage({ channel: HANDOFFS, text: 'again' });
    expect(first).toMatchObject({
      ok: true,
      channel: HANDOFFS,
      message: {
        type: 'message',
        text: 'Hand-off: P-0042',
        user: fake.bot.userId,
        bot_id: fake.bot.botId,
      },
    });
    expect(first.ts).toMatch(TS);
    expect(first.message?.ts).toBe(first.ts);
    expect(tsNumber(second.ts ?? '')).toBeGreaterThan(tsNumber(first.ts ?? ''));
    expect(fake.messages(HANDOFFS).map((m) => m.text)).toEqual(['Hand-off: P-0042', 'again']);
  });

  it('keeps blocks, unfurl flags and metadata; metadata is shown only when asked for', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: '*Urgent*' } }];
    const metadata = { event_type: 'linkline_handoff', event_payload: { handoff_id: 'h-1' } };
    const posted = await client.chat.postMessage({
      channel: HANDOFFS,
      text: 'Urgent',
      blocks,
      metadata,
      unfurl_links: false,
      unfurl_media: false,
    });
    expect(fake.message(HANDOFFS, posted.ts ?? '')).toMatchObject({
      blocks,
      metadata,
      unfurlLinks: false,
      unfurlMedia: false,
    });
    const plain = await client.conversations.history({ channel: HANDOFFS });
    expect(plain.messages?.[0]?.metadata).toBeUndefined();
    const withMeta = await client.conversations.history({
      channel: HANDOFFS,
      include_all_metadata: true,
    });
    expect(withMeta.messages?.[0]?.metadata).toEqual(metadata);
  });

  it('threads replies under a parent; replies returns parent first with counts', async () => {
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'parent' });
    const threadTs = parent.ts ?? '';
    await client.chat.postMessage({ channel: HANDOFFS, thread_ts: threadTs, text: 'one' });
    await client.chat.postMessage({
      channel: HANDOFFS,
      thread_ts: threadTs,
      text: 'two',
      reply_broadcast: false,
    });
    const thread = await client.conversations.replies({ channel: HANDOFFS, ts: threadTs });
    expect(thread.messages?.map((m) => m.text)).toEqual(['parent', 'one', 'two']);
    expect(thread.messages?.[0]).toMatchObject({
      thread_ts: threadTs,
      reply_count: 2,
      reply_users: [fake.bot.userId],
    });
    expect(thread.messages?.[1]).toMatchObject({
      thread_ts: threadTs,
      parent_user_id: fake.bot.userId,
    });
    expect(thread.has_more).toBe(false);
    const history = await client.conversations.history({ channel: HANDOFFS });
    expect(history.messages?.map((m) => m.text)).toEqual(['parent']);
    expect(fake.thread(HANDOFFS, threadTs).map((m) => m.text)).toEqual(['parent', 'one', 'two']);
  });

  it('shows a broadcast reply in the channel too', async () => {
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'parent' });
    await client.chat.postMessage({
      channel: HANDOFFS,
      thread_ts: parent.ts ?? '',
      text: 'loud',
      reply_broadcast: true,
    });
    const history = await client.conversations.history({ channel: HANDOFFS });
    expect(history.messages?.map((m) => [m.text, m.subtype])).toEqual([
      ['loud', 'thread_broadcast'],
      ['parent', undefined],
    ]);
  });

  it.each([
    ['an unknown channel', 'channel_not_found', { channel: 'C0NOPE', text: 'x' }],
    [
      'a private channel without the bot',
      'channel_not_found',
      { channel: 'C0PRIVATE9', text: 'x' },
    ],
    ['a public channel the bot is not in', 'not_in_channel', { channel: GENERAL, text: 'x' }],
    ['no text or blocks', 'no_text', { channel: HANDOFFS }],
    ['over-long text', 'msg_too_long', { channel: HANDOFFS, text: 'x'.repeat(40_001) }],
    ['a block without a type', 'invalid_blocks', { channel: HANDOFFS, text: 'x', blocks: [{}] }],
    [
      'metadata without event_type',
      'invalid_metadata_schema',
      { channel: HANDOFFS, text: 'x', metadata: { event_payload: {} } },
    ],
  ])('refuses %s with %s', async (_name, code, args) => {
    fake.addChannel({ id: 'C0PRIVATE9', name: 'private', isPrivate: true, members: [AMY] });
    const error = await failure(client.chat.postMessage(args as never));
    expect(error.data).toMatchObject({ ok: false, error: code });
    expect(fake.messages()).toHaveLength(0);
  });

  it('explains invalid blocks in response_metadata.messages', async () => {
    const blocks = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    const error = await failure(client.chat.postMessage({ channel: HANDOFFS, text: 'x', blocks }));
    expect(error.data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: {
        messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'],
      },
    });
  });

  it('accepts 50 blocks; refuses 51, as chat.update does too', async () => {
    const blocks = (n: number) => Array.from({ length: n }, () => ({ type: 'divider' }));
    const posted = await client.chat.postMessage({
      channel: HANDOFFS,
      text: 'x',
      blocks: blocks(50),
    });
    expect(fake.messages()[0]?.blocks).toHaveLength(50);
    const error = await failure(
      client.chat.update({ channel: HANDOFFS, ts: posted.ts!, text: 'y', blocks: blocks(51) }),
    );
    expect(error.data).toMatchObject({ ok: false, error: 'invalid_blocks' });
    expect(fake.messages()[0]?.blocks).toHaveLength(50);
  });

  it.each([
    ['actions', 25, { type: 'button', text: { type: 'plain_text', text: 'Go' }, action_id: 'a' }],
    ['context', 10, { type: 'mrkdwn', text: 'note' }],
  ])('refuses an %s block of more than %i elements, naming it', async (type, max, element) => {
    const block = (n: number) => ({
      type,
      elements: Array.from({ length: n }, (_, i) => ({
        ...element,
        ...(type === 'actions' ? { action_id: `a${i}` } : {}),
      })),
    });
    await client.chat.postMessage({ channel: HANDOFFS, text: 'x', blocks: [block(max)] });
    const error = await failure(
      client.chat.postMessage({
        channel: HANDOFFS,
        text: 'x',
        blocks: [{ type: 'divider' }, block(max + 1)],
      }),
    );
    expect(error.data).toMatchObject({
      error: 'invalid_blocks',
      response_metadata: {
        messages: [`[ERROR] no more than ${max} items allowed [json-pointer:/blocks/1/elements]`],
      },
    });
    expect(fake.messages()).toHaveLength(1);
  });

  it('refuses a button whose text is over 75 characters', async () => {
    const button = {
      type: 'button',
      action_id: 'a',
      text: { type: 'plain_text', text: 'x'.repeat(76) },
    };
    const error = await failure(
      client.chat.postMessage({
        channel: HANDOFFS,
        text: 'x',
        blocks: [{ type: 'actions', elements: [button] }] as never,
      }),
    );
    expect(error.data).toMatchObject({ error: 'invalid_blocks' });
  });

  it('posts to a user id through the bot DM with that user', async () => {
    const posted = await client.chat.postMessage({ channel: AMY, text: 'Your caseload' });
    expect(posted.channel).toMatch(/^D/);
    expect(posted.channel).toBe(fake.dmWith(AMY));
  });
});

describe('chat.update, chat.delete, chat.postEphemeral', () => {
  it('updates text and keeps blocks unless replaced; marks edited', async () => {
    const blocks = [{ type: 'section', text: { type: 'plain_text', text: 'Claim?' } }];
    const posted = await client.chat.postMessage({ channel: HANDOFFS, text: 'open', blocks });
    const updated = await client.chat.update({
      channel: HANDOFFS,
      ts: posted.ts ?? '',
      text: 'claimed by Amy',
    });
    expect(updated).toMatchObject({
      ok: true,
      channel: HANDOFFS,
      ts: posted.ts,
      text: 'claimed by Amy',
    });
    expect(fake.message(HANDOFFS, posted.ts ?? '')).toMatchObject({
      text: 'claimed by Amy',
      blocks,
    });
    expect(fake.message(HANDOFFS, posted.ts ?? '')?.edited?.user).toBe(fake.bot.userId);
    await client.chat.update({ channel: HANDOFFS, ts: posted.ts ?? '', text: 'x', blocks: [] });
    expect(fake.message(HANDOFFS, posted.ts ?? '')?.blocks).toEqual([]);
  });

  it("refuses to update a missing message or a person's message", async () => {
    const missing = await failure(
      client.chat.update({ channel: HANDOFFS, ts: '1.000001', text: 'x' }),
    );
    expect(missing.data).toMatchObject({ error: 'message_not_found' });
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'p' });
    const reply = await fake.userReplies(HANDOFFS, parent.ts ?? '', AMY, 'mine');
    const theirs = await failure(
      client.chat.update({ channel: HANDOFFS, ts: reply.message.ts, text: 'x' }),
    );
    expect(theirs.data).toMatchObject({ error: 'cant_update_message' });
  });

  it('deletes; a parent with replies stays as a tombstone', async () => {
    const lone = await client.chat.postMessage({ channel: HANDOFFS, text: 'lone' });
    expect(await client.chat.delete({ channel: HANDOFFS, ts: lone.ts ?? '' })).toMatchObject({
      ok: true,
      ts: lone.ts,
    });
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'parent' });
    await client.chat.postMessage({ channel: HANDOFFS, thread_ts: parent.ts ?? '', text: 'reply' });
    await client.chat.delete({ channel: HANDOFFS, ts: parent.ts ?? '' });
    expect(fake.messages(HANDOFFS).map((m) => [m.text, m.subtype])).toEqual([
      ['This message was deleted.', 'tombstone'],
      ['reply', null],
    ]);
  });

  it('records ephemerals for members only', async () => {
    const result = await client.chat.postEphemeral({
      channel: HANDOFFS,
      user: RAJ,
      text: 'Already claimed by Amy',
    });
    expect(result.message_ts).toMatch(TS);
    expect(fake.ephemerals()).toMatchObject([
      { channel: HANDOFFS, user: RAJ, text: 'Already claimed by Amy', via: 'api' },
    ]);
    const error = await failure(
      client.chat.postEphemeral({ channel: LEADS, user: RAJ, text: 'x' }),
    );
    expect(error.data).toMatchObject({ error: 'user_not_in_channel' });
    expect(fake.messages()).toHaveLength(0);
  });
});
