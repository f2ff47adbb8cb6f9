import type { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type SlackFake,
  type SlackFakeOptions,
  startSlackFake,
  textInput,
} from '../../../src/sandbox/slack/index.js';
import {
  AMY,
  type Answer,
  boltVerifies,
  clientFor,
  failure,
  HANDOFFS,
  type Received,
  startAppReceiver,
} from './fixtures.js';

let receiver: Awaited<ReturnType<typeof startAppReceiver>>;
let fake: SlackFake;
let client: WebClient;
let answer: (r: Received) => Answer;
let clock: number;

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

const modal = (title = 'Book an activity', extra: Record<string, unknown> = {}) => ({
  type: 'modal' as const,
  callback_id: 'book',
  title: { type: 'plain_text' as const, text: title },
  submit: { type: 'plain_text' as const, text: 'Book' },
  blocks: [
    {
      type: 'input',
      block_id: 'who',
      label: { type: 'plain_text', text: 'Who' },
      element: { type: 'plain_text_input', action_id: 'ref' },
    },
  ],
  ...extra,
});

describe('slash commands and modals', () => {
  it('sends the command form; the trigger opens a modal once, within 3 seconds', async () => {
    const delivery = await fake.sendCommand({
      command: '/linkline',
      text: 'find P-0042',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    const r = last();
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(boltVerifies(r, fake.signingSecret)).toBe(true);
    expect(r.body).toMatchObject({
      command: '/linkline',
      text: 'find P-0042',
      user_id: AMY,
      user_name: 'amy.hughes',
      channel_id: HANDOFFS,
      channel_name: 'linkline-handoffs',
      team_id: fake.team.id,
      team_domain: 'linkline-sandbox',
      api_app_id: fake.bot.appId,
      is_enterprise_install: 'false',
      trigger_id: delivery.triggerId,
      response_url: delivery.responseUrl,
    });
    const opened = await client.views.open({ trigger_id: delivery.triggerId, view: modal() });
    expect(opened.view).toMatchObject({
      id: expect.stringMatching(/^V/),
      type: 'modal',
      callback_id: 'book',
      state: { values: {} },
      app_id: fake.bot.appId,
    });
    expect(fake.views()).toMatchObject([{ type: 'modal', user: AMY, status: 'open' }]);
    const reused = await failure(
      client.views.open({ trigger_id: delivery.triggerId, view: modal() }),
    );
    expect(reused.data).toMatchObject({ error: 'exchanged_trigger_id' });
    const invented = await failure(client.views.open({ trigger_id: '1.2.abc', view: modal() }));
    expect(invented.data).toMatchObject({ error: 'invalid_trigger_id' });
  });

  it('expires triggers after 3 seconds', async () => {
    await fake.stop();
    clock = Date.UTC(2024, 10, 24, 10);
    await start({ now: () => new Date(clock) });
    const { triggerId } = await fake.sendCommand({
      command: '/linkline',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    clock += 3001;
    const error = await failure(client.views.open({ trigger_id: triggerId, view: modal() }));
    expect(error.data).toMatchObject({ error: 'expired_trigger_id' });
  });

  it('shows the command ack: text as an ephemeral, in_channel as a message, a timeout as an error', async () => {
    answer = () => ({ body: 'Looking…' });
    await fake.sendCommand({ command: '/linkline', user_id: AMY, channel_id: HANDOFFS });
    answer = () => ({
      body: JSON.stringify({ response_type: 'in_channel', text: 'Session moved' }),
      headers: { 'Content-Type': 'application/json' },
    });
    await fake.sendCommand({ command: '/linkline', user_id: AMY, channel_id: HANDOFFS });
    expect(fake.ephemerals()).toMatchObject([{ user: AMY, text: 'Looking…', via: 'command_ack' }]);
    expect(fake.messages(HANDOFFS).map((m) => m.text)).toEqual(['Session moved']);
    await fake.stop();
    await start({ ackTimeoutMs: 50 });
    answer = () => ({ delayMs: 200 });
    const slow = await fake.sendCommand({
      command: '/linkline',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    expect(slow.failure).toBe('http_timeout');
    expect(fake.ephemerals().at(-1)?.text).toBe(
      '/linkline failed with the error "operation_timeout"',
    );
  });

  it('checks views as Slack does', async () => {
    const { triggerId } = await fake.sendCommand({
      command: '/linkline',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    const error = await failure(
      client.views.open({ trigger_id: triggerId, view: modal('A title far too long for Slack') }),
    );
    expect(error.data).toMatchObject({
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'],
      },
    });
  });

  it('view_submission: errors keep the modal, update replaces it, an empty ack closes it', async () => {
    const { triggerId } = await fake.sendCommand({
      command: '/linkline',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    const { view } = await client.views.open({ trigger_id: triggerId, view: modal() });
    const viewId = view?.id ?? '';
    answer = () => ({
      body: JSON.stringify({ response_action: 'errors', errors: { who: 'Unknown reference' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    const values = { who: { ref: textInput('P-9999') } };
    const refused = await fake.sendViewSubmission({ viewId, values });
    expect(refused).toMatchObject({ outcome: 'errors', errors: { who: 'Unknown reference' } });
    expect(last().body).toMatchObject({
      type: 'view_submission',
      user: { id: AMY },
      view: { id: viewId, callback_id: 'book', state: { values } },
    });
    expect(boltVerifies(last(), fake.signingSecret)).toBe(true);
    answer = () => ({
      body: JSON.stringify({ response_action: 'update', view: modal('Booked') }),
      headers: { 'Content-Type': 'application/json' },
    });
    expect((await fake.sendViewSubmission({ viewId, values })).outcome).toBe('updated');
    expect(fake.views()[0]?.view.title).toMatchObject({ text: 'Booked' });
    answer = () => ({});
    expect((await fake.sendViewSubmission({ viewId, values })).outcome).toBe('closed');
    expect(fake.views()[0]?.status).toBe('closed');
    const gone = await failure(client.views.update({ view_id: viewId, view: modal() }));
    expect(gone.data).toMatchObject({ error: 'not_found' });
  });

  it('errors under a block that is not an input fail the submission; updates keep what was typed', async () => {
    const { triggerId } = await fake.sendCommand({
      command: '/linkline',
      user_id: AMY,
      channel_id: HANDOFFS,
    });
    const { view } = await client.views.open({ trigger_id: triggerId, view: modal() });
    const viewId = view?.id ?? '';
    answer = () => ({
      body: JSON.stringify({ response_action: 'errors', errors: { nowhere: 'Not shown' } }),
      headers: { 'Content-Type': 'application/json' },
    });
    const values = { who: { ref: textInput('P-9999') } };
    const failed = await fake.sendViewSubmission({ viewId, values });
    expect(failed.outcome).toBe('failed');
    expect(fake.views()[0]?.status).toBe('open');
    // The same input (block_id and action_id) in the new view keeps its value; others do not.
    const changed = modal('Book again', {
      blocks: [
        ...modal().blocks,
        {
          type: 'input',
          block_id: 'when',
          label: { type: 'plain_text', text: 'When' },
          element: { type: 'plain_text_input', action_id: 'day' },
        },
      ],
    });
    await client.views.update({ view_id: viewId, view: changed });
    expect(fake.views()[0]?.view.state).toEqual({ values });
    await client.views.update({
      view_id: viewId,
      view: modal('Renamed', {
        blocks: [{ ...modal().blocks[0], block_id: 'someone' }],
      }),
    });
    expect(fake.views()[0]?.view.state).toEqual({ values: {} });
  });
});

describe('App Home', () => {
  const home = (text: string) => ({
    type: 'home' as const,
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
  });

  it('publishes one Home per user, replaced on republish, with hash checks', async () => {
    const first = await client.views.publish({ user_id: AMY, view: home('3 open hand-offs') });
    expect(first.view).toMatchObject({ type: 'home', hash: expect.any(String) });
    const second = await client.views.publish({
      user_id: AMY,
      view: home('2 open hand-offs'),
      hash: first.view?.hash ?? '',
    });
    expect(second.view?.id).toBe(first.view?.id);
    expect(fake.views()).toHaveLength(1);
    expect(fake.views()[0]?.view.blocks).toEqual(home('2 open hand-offs').blocks);
    const stale = await failure(
      client.views.publish({ user_id: AMY, view: home('x'), hash: first.view?.hash ?? '' }),
    );
    expect(stale.data).toMatchObject({ error: 'hash_conflict' });
    const modalOnHome = await failure(
      client.views.publish({ user_id: AMY, view: modal() as never }),
    );
    expect(modalOnHome.data).toMatchObject({ error: 'invalid_arguments' });
  });

  it('Home buttons send block_actions with a view container', async () => {
    const blocks = [
      {
        type: 'actions',
        block_id: 'caseload',
        elements: [
          { type: 'button', action_id: 'refresh', text: { type: 'plain_text', text: 'Refresh' } },
        ],
      },
    ];
    const { view } = await client.views.publish({ user_id: AMY, view: { type: 'home', blocks } });
    await fake.sendAction({
      user: AMY,
      viewId: view?.id ?? '',
      actions: [{ action_id: 'refresh' }],
    });
    expect(last().body).toMatchObject({
      container: { type: 'view', view_id: view?.id },
      view: { type: 'home' },
      actions: [{ action_id: 'refresh', block_id: 'caseload' }],
    });
    expect(last().body).not.toHaveProperty('response_url');
  });
});
