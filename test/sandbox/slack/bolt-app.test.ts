import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, type KnownEventFromType } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake, textInput } from '../../../src/sandbox/slack/index.js';
import { AMY, clientFor, HANDOFFS, RAJ, silentLogger, until } from './fixtures.js';

// The fake against the real thing on both sides: a Bolt app (HTTPReceiver, its own signature
// check, ignoreSelf, ack, respond, client) receiving the fake's requests and calling its API.

type Message = KnownEventFromType<'message'>;

let fake: SlackFake;
let app: App;
let messages: Message[];
let actions: string[];

const bookModal = {
  type: 'modal' as const,
  callback_id: 'book',
  title: { type: 'plain_text' as const, text: 'Book' },
  submit: { type: 'plain_text' as const, text: 'Book' },
  blocks: [
    {
      type: 'input',
      block_id: 'who',
      label: { type: 'plain_text' as const, text: 'Reference' },
      element: { type: 'plain_text_input' as const, action_id: 'ref' },
    },
  ],
};

function listeners(bolt: App): void {
  bolt.message(async ({ message }) => {
    messages.push(message);
  });
  bolt.action('claim', async ({ ack, body, respond }) => {
    await ack();
    actions.push(body.user.id);
    await respond({ replace_original: true, text: `Claimed by <@${body.user.id}>` });
  });
  bolt.command('/linkline', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: bookModal });
  });
  bolt.view('book', async ({ ack, view }) => {
    const ref = view.state.values.who?.ref?.value;
    await ack({ response_action: 'errors', errors: { who: `No participant ${ref}` } });
  });
}

beforeEach(async () => {
  messages = [];
  actions = [];
  fake = await startSlackFake({ echoBotMessages: true });
  app = new App({
    token: fake.botToken,
    signingSecret: fake.signingSecret,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 2000 },
    logger: silentLogger,
  });
  listeners(app);
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  fake.setAppUrl(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`);
});
afterEach(async () => {
  await fake.stop();
  await app.stop();
});

describe('a real Bolt app against the fake', () => {
  it("gets a link worker's thread reply, and ignores the echo of its own post", async () => {
    const client = clientFor(fake);
    const parent = await client.chat.postMessage({ channel: HANDOFFS, text: 'Hand-off P-0042' });
    const reply = await fake.userReplies(HANDOFFS, parent.ts ?? '', AMY, 'On it');
    await fake.settled();
    expect(reply.deliveries[0]).toMatchObject({ status: 200, acked: true });
    expect(fake.deliveries().map((d) => d.status)).toEqual([200, 200]);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ text: 'On it', user: AMY, thread_ts: parent.ts });
    expect(fake.calls('auth.test')).toHaveLength(1);
  });

  it('answers 401 to forged and stale requests and runs nothing', async () => {
    const parent = await clientFor(fake).chat.postMessage({ channel: HANDOFFS, text: 'p' });
    const event = {
      type: 'message',
      channel: HANDOFFS,
      user: AMY,
      text: 'x',
      ts: '1.000001',
      channel_type: 'group',
    };
    for (const forge of ['wrong_secret', 'stale', 'tampered'] as const) {
      expect((await fake.sendEvent(event, { forge })).status).toBe(401);
    }
    expect(messages).toHaveLength(0);
    expect(parent.ok).toBe(true);
  });

  it('claims from a button: ack, then respond() replaces the original', async () => {
    const blocks = [
      {
        type: 'actions',
        block_id: 'handoff',
        elements: [
          {
            type: 'button',
            action_id: 'claim',
            text: { type: 'plain_text', text: 'Claim' },
            value: 'h-1',
          },
        ],
      },
    ];
    const posted = await clientFor(fake).chat.postMessage({
      channel: HANDOFFS,
      text: 'Hand-off',
      blocks,
    });
    const ts = posted.ts ?? '';
    const click = await fake.clickButton({ user: RAJ, channel: HANDOFFS, ts, actionId: 'claim' });
    expect(click).toMatchObject({ status: 200, acked: true });
    await until(() => fake.responses().length === 1);
    expect(actions).toEqual([RAJ]);
    expect(fake.message(HANDOFFS, ts)?.text).toBe(`Claimed by <@${RAJ}>`);
  });

  it('opens a modal from /linkline and shows submission errors', async () => {
    const command = await fake.sendCommand({
      command: '/linkline',
      text: 'book',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    expect(command.status).toBe(200);
    await until(() => fake.views().length === 1);
    const [modal] = fake.views();
    expect(modal).toMatchObject({ type: 'modal', user: AMY, status: 'open' });
    const submitted = await fake.sendViewSubmission({
      viewId: modal?.id ?? '',
      values: { who: { ref: textInput('P-9999') } },
    });
    expect(submitted).toMatchObject({
      outcome: 'errors',
      errors: { who: 'No participant P-9999' },
    });
  });
});
