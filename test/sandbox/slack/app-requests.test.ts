import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SlackFake,
  type SlackFakeOptions,
  startSlackFake,
} from '../../../src/sandbox/slack/index.js';
import {
  AMY,
  type Answer,
  boltVerifies,
  clientFor,
  GENERAL,
  HANDOFFS,
  type Received,
  startAppReceiver,
  until,
} from './fixtures.js';

let receiver: Awaited<ReturnType<typeof startAppReceiver>>;
let fake: SlackFake;
let client: WebClient;
let answer: (r: Received) => Answer;

async function start(options: SlackFakeOptions = {}) {
  await fake?.stop();
  fake = await startSlackFake({ appUrl: `${receiver.url}/slack/events`, ...options });
  client = clientFor(fake);
}

beforeEach(async () => {
  answer = () => ({});
  receiver = await startAppReceiver((r) => answer(r));
  await start();
});
afterEach(async () => {
  await fake.stop();
  await receiver.stop();
});

const last = () => receiver.received.at(-1) as Received;

describe('sendEvent', () => {
  it('posts an event_callback envelope as JSON, signed so that Bolt accepts it', async () => {
    const event = { type: 'app_mention', user: AMY, text: 'hi', channel: HANDOFFS };
    const delivery = await fake.sendEvent(event);
    expect(delivery).toMatchObject({ status: 200, acked: true, failure: null });
    const r = last();
    expect(r.path).toBe('/slack/events');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['user-agent']).toMatch(/^Slackbot 1\.0/);
    expect(r.headers['x-slack-retry-num']).toBeUndefined();
    expect(boltVerifies(r, fake.signingSecret)).toBe(true);
    expect(r.body).toMatchObject({
      token: expect.any(String),
      team_id: fake.team.id,
      api_app_id: fake.bot.appId,
      type: 'event_callback',
      event_id: delivery.eventId,
      event_time: expect.any(Number),
      event: { ...event, event_ts: expect.stringMatching(/^\d+\.\d{6}$/) },
      authorizations: [{ team_id: fake.team.id, user_id: fake.bot.userId, is_bot: true }],
    });
    expect(delivery.eventId).toMatch(/^Ev[A-Z0-9]{10}$/);
  });

  it('redelivers the same event_id with Slack retry headers when told', async () => {
    const first = await fake.sendEvent({ type: 'app_mention', text: 'x' });
    await fake.sendEvent(
      { type: 'app_mention', text: 'x' },
      { eventId: first.eventId, retryNum: 1, retryReason: 'http_timeout' },
    );
    const [a, b] = receiver.received;
    expect(b?.body.event_id).toBe(a?.body.event_id);
    expect(b?.headers['x-slack-retry-num']).toBe('1');
    expect(b?.headers['x-slack-retry-reason']).toBe('http_timeout');
  });

  it('retries by itself as Slack does, with the reason, until acknowledged', async () => {
    await start({ eventRetryDelaysMs: [5, 5, 5] });
    let calls = 0;
    answer = () => ({ status: ++calls === 1 ? 500 : 200 });
    const delivery = await fake.sendEvent({ type: 'app_mention' }, { autoRetry: true });
    expect(delivery.attempts.map((a) => a.status)).toEqual([500, 200]);
    expect(receiver.received[1]?.headers['x-slack-retry-reason']).toBe('http_error');
    expect(receiver.received[1]?.body.event_id).toBe(delivery.eventId);
  });

  it('counts an answer after the 3 s limit (here 100 ms) as a timeout, and honours X-Slack-No-Retry', async () => {
    await start({ ackTimeoutMs: 100, eventRetryDelaysMs: [5, 5, 5] });
    answer = () => ({ delayMs: 300 });
    const slow = await fake.sendEvent({ type: 'app_mention' }, { autoRetry: true });
    expect(slow.attempts.map((a) => a.failure)).toEqual([
      'http_timeout',
      'http_timeout',
      'http_timeout',
      'http_timeout',
    ]);
    expect(receiver.received.map((r) => r.headers['x-slack-retry-num'])).toEqual([
      undefined,
      '1',
      '2',
      '3',
    ]);
    answer = () => ({ status: 500, headers: { 'X-Slack-No-Retry': '1' } });
    const refused = await fake.sendEvent({ type: 'app_mention' }, { autoRetry: true });
    expect(refused.attempts).toHaveLength(1);
  });

  it.each([
    ['wrong_secret', false],
    ['stale', false],
    ['tampered', false],
    ['missing_signature', false],
  ] as const)('forged (%s) requests fail Bolt verification', async (forge, valid) => {
    await fake.sendEvent({ type: 'app_mention' }, { forge });
    expect(boltVerifies(last(), fake.signingSecret)).toBe(valid);
  });

  it("a future-dated (6 min) request is signed correctly: only the app's own check stops it", async () => {
    await fake.sendEvent({ type: 'app_mention' }, { forge: 'future' });
    const r = last();
    expect(Number(r.headers['x-slack-request-timestamp']) - Date.now() / 1000).toBeGreaterThan(350);
    expect(boltVerifies(r, fake.signingSecret)).toBe(true);
  });

  it('signs with a given timestamp or secret', async () => {
    await fake.sendEvent(
      { type: 'app_mention' },
      { timestamp: 1_700_000_000, signingSecret: 'other' },
    );
    expect(last().headers['x-slack-request-timestamp']).toBe('1700000000');
    expect(boltVerifies(last(), 'other', 1_700_000_000_000)).toBe(true);
  });
});

describe('people in Slack', () => {
  it('userReplies records the reply in the thread and sends the message event', async () => {
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'Hand-off P-0042' });
    const threadTs = parent.ts ?? '';
    const { message, deliveries } = await fake.userReplies(HANDOFFS, threadTs, AMY, "Hi, it's Amy");
    expect(fake.thread(HANDOFFS, threadTs).map((m) => m.text)).toEqual([
      'Hand-off P-0042',
      "Hi, it's Amy",
    ]);
    expect(deliveries).toHaveLength(1);
    expect(last().body.event).toMatchObject({
      type: 'message',
      channel: HANDOFFS,
      channel_type: 'group',
      user: AMY,
      text: "Hi, it's Amy",
      ts: message.ts,
      event_ts: message.ts,
      thread_ts: threadTs,
      parent_user_id: fake.bot.userId,
      client_msg_id: expect.any(String),
      blocks: [{ type: 'rich_text' }],
    });
  });

  it('sends nothing for a conversation the bot is not in, and an app_mention when mentioned', async () => {
    const quiet = await fake.userPosts({ channel: GENERAL, user: AMY, text: 'lunch?' });
    expect(quiet.deliveries).toHaveLength(0);
    expect(fake.messages(GENERAL)).toHaveLength(1);
    await fake.userPosts({ channel: HANDOFFS, user: AMY, text: `<@${fake.bot.userId}> help` });
    expect(receiver.received.map((r) => (r.body.event as { type: string }).type)).toEqual([
      'message',
      'app_mention',
    ]);
  });

  it('openAppHome sends app_home_opened with the DM channel', async () => {
    await fake.openAppHome(AMY);
    expect(last().body.event).toMatchObject({
      type: 'app_home_opened',
      user: AMY,
      tab: 'home',
      channel: fake.dmWith(AMY),
    });
  });
});

describe("echo of the bot's own posts", () => {
  const events = () => receiver.received.map((r) => r.body.event as Record<string, unknown>);

  it("sends the bot's posts, edits and deletions back, with bot_id and the bot user", async () => {
    await start({ echoBotMessages: true });
    const posted = await client.chat.postMessage({ channel: HANDOFFS, text: 'mine' });
    await client.chat.update({ channel: HANDOFFS, ts: posted.ts ?? '', text: 'edited' });
    await client.chat.delete({ channel: HANDOFFS, ts: posted.ts ?? '' });
    await fake.settled();
    await until(() => receiver.received.length === 3);
    const [post, change, removal] = events();
    expect(post).toMatchObject({
      type: 'message',
      bot_id: fake.bot.botId,
      user: fake.bot.userId,
      channel: HANDOFFS,
      channel_type: 'group',
    });
    expect(post?.bot_profile).toMatchObject({ id: fake.bot.botId });
    expect(change).toMatchObject({
      subtype: 'message_changed',
      message: { text: 'edited' },
      previous_message: { text: 'mine' },
    });
    expect(removal).toMatchObject({ subtype: 'message_deleted', deleted_ts: posted.ts });
  });

  it('or as legacy bot_message events', async () => {
    await start({ echoBotMessages: 'bot_message' });
    await client.chat.postMessage({ channel: HANDOFFS, text: 'mine' });
    await fake.settled();
    expect(events()[0]).toMatchObject({ subtype: 'bot_message', bot_id: fake.bot.botId });
    expect(events()[0]).not.toHaveProperty('user');
  });

  it('is off by default', async () => {
    await client.chat.postMessage({ channel: HANDOFFS, text: 'mine' });
    await fake.settled();
    expect(receiver.received).toHaveLength(0);
  });
});
