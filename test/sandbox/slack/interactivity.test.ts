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
  HANDOFFS,
  type Received,
  startAppReceiver,
} from './fixtures.js';

let receiver: Awaited<ReturnType<typeof startAppReceiver>>;
let fake: SlackFake;
let client: WebClient;
let answer: (r: Received) => Answer;

async function start(options: SlackFakeOptions = {}) {
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

const handoffBlocks = [
  {
    type: 'section',
    block_id: 'summary',
    text: { type: 'mrkdwn', text: '*P-0042* wants to talk' },
  },
  {
    type: 'actions',
    block_id: 'handoff:h-1:v3',
    elements: [
      {
        type: 'button',
        action_id: 'claim',
        text: { type: 'plain_text', text: 'Claim' },
        value: 'h-1',
        style: 'primary',
      },
      {
        type: 'button',
        action_id: 'close',
        text: { type: 'plain_text', text: 'Close' },
        value: 'h-1',
      },
    ],
  },
];

async function postHandoff() {
  const posted = await client.chat.postMessage({
    channel: HANDOFFS,
    text: 'Hand-off',
    blocks: handoffBlocks,
  });
  return posted.ts ?? '';
}

describe('block_actions', () => {
  it('clickButton posts payload= form with the message, the action and a trigger', async () => {
    const ts = await postHandoff();
    const delivery = await fake.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts,
      actionId: 'claim',
    });
    const r = last();
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(r.rawBody.startsWith('payload=')).toBe(true);
    expect(boltVerifies(r, fake.signingSecret)).toBe(true);
    expect(r.body).toMatchObject({
      type: 'block_actions',
      user: { id: AMY, username: 'amy.hughes', team_id: fake.team.id },
      api_app_id: fake.bot.appId,
      team: { id: fake.team.id, domain: 'linkline-sandbox' },
      container: { type: 'message', message_ts: ts, channel_id: HANDOFFS, is_ephemeral: false },
      channel: { id: HANDOFFS, name: 'linkline-handoffs' },
      message: { ts, text: 'Hand-off', bot_id: fake.bot.botId, blocks: handoffBlocks },
      trigger_id: delivery.triggerId,
      response_url: delivery.responseUrl,
      actions: [
        {
          type: 'button',
          action_id: 'claim',
          block_id: 'handoff:h-1:v3',
          value: 'h-1',
          style: 'primary',
          text: { text: 'Claim' },
          action_ts: expect.any(String),
        },
      ],
    });
  });

  it('refuses to click a button that is not on the message', async () => {
    const ts = await postHandoff();
    await expect(
      fake.clickButton({ user: AMY, channel: HANDOFFS, ts, actionId: 'nope' }),
    ).rejects.toThrow(/no element/);
  });

  it('sendAction can send stale or tampered values', async () => {
    const ts = await postHandoff();
    await fake.sendAction({
      user: AMY,
      channel: HANDOFFS,
      messageTs: ts,
      actions: [{ action_id: 'claim', value: 'h-999', block_id: 'handoff:h-1:v1' }],
    });
    expect(last().body.actions).toMatchObject([
      { action_id: 'claim', value: 'h-999', block_id: 'handoff:h-1:v1' },
    ]);
  });

  it('response_url: replace_original updates the message; otherwise an ephemeral', async () => {
    const ts = await postHandoff();
    const { responseUrl } = await fake.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts,
      actionId: 'claim',
    });
    const respond = (body: unknown) =>
      fetch(responseUrl ?? '', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect(
      (await respond({ replace_original: true, text: 'Claimed by Amy', blocks: [] })).status,
    ).toBe(200);
    expect(fake.message(HANDOFFS, ts)).toMatchObject({ text: 'Claimed by Amy', blocks: [] });
    await respond({ text: 'Only you can see this' });
    expect(fake.ephemerals()).toMatchObject([
      { user: AMY, channel: HANDOFFS, text: 'Only you can see this', via: 'response_url' },
    ]);
    await respond({ delete_original: true });
    expect(fake.message(HANDOFFS, ts)).toBeUndefined();
    expect(fake.responses().map((r) => r.effect)).toEqual(['replaced', 'ephemeral', 'deleted']);
    const unknown = await fetch(`${fake.url}/actions/T0/1/nope`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
  });
});
