import { ErrorCode, type WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { clientFor, failure, HANDOFFS, LEADS } from './fixtures.js';

let fake: SlackFake;
let client: WebClient;

beforeEach(async () => {
  fake = await startSlackFake();
  client = clientFor(fake);
});
afterEach(() => fake.stop());

const post = (text = 'hello', c = client) => c.chat.postMessage({ channel: HANDOFFS, text });

describe('429', () => {
  it('answers ratelimited with Retry-After, surfaced by the client as a rate-limited error', async () => {
    fake.inject({ kind: '429', method: 'chat.postMessage', retryAfterSeconds: 7 });
    const strict = clientFor(fake, { rejectRateLimitedCalls: true });
    const error = await failure(post('x', strict));
    expect(error.code).toBe(ErrorCode.RateLimitedError);
    expect(error.retryAfter).toBe(7);
    expect(fake.calls('chat.postMessage')[0]).toMatchObject({
      outcome: 429,
      ok: false,
      error: 'ratelimited',
    });
    expect(fake.messages()).toHaveLength(0);
  });

  it('sends the header and body Slack sends', async () => {
    fake.inject({ kind: '429', retryAfterSeconds: 3 });
    const response = await fetch(`${fake.apiUrl}auth.test`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${fake.botToken}` },
    });
    expect(response.status).toBe(429);
    expect(response.headers.get('retry-after')).toBe('3');
    expect(await response.json()).toEqual({ ok: false, error: 'ratelimited' });
  });

  it('with retries on, the client waits Retry-After and then posts once', async () => {
    fake.inject({ kind: '429', method: 'chat.postMessage', retryAfterSeconds: 1 });
    const patient = clientFor(fake, { retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 0 } });
    const started = Date.now();
    const result = await post('after the wait', patient);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.ok).toBe(true);
    expect(fake.calls('chat.postMessage').map((c) => c.outcome)).toEqual([429, 200]);
    expect(fake.messages().map((m) => m.text)).toEqual(['after the wait']);
  });

  it('limits chat.postMessage to about one per second per channel when switched on', async () => {
    fake.setChannelRateLimit(true);
    const strict = clientFor(fake, { rejectRateLimitedCalls: true });
    await post('first', strict);
    const error = await failure(post('second', strict));
    expect(error).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    await strict.chat.postMessage({ channel: LEADS, text: 'other channel' });
    fake.setChannelRateLimit(false);
    await post('third', strict);
    expect(fake.messages().map((m) => m.text)).toEqual(['first', 'other channel', 'third']);
  });
});

describe('5xx and Slack errors', () => {
  it.each([
    ['500', 500],
    ['503', 503],
  ] as const)('%s surfaces as an HTTP error and posts nothing', async (kind, status) => {
    fake.inject({ kind, method: 'chat.postMessage', times: 2 });
    for (let i = 0; i < 2; i++) {
      const error = await failure(post());
      expect(error).toMatchObject({ code: ErrorCode.HTTPError, statusCode: status });
    }
    expect(fake.messages()).toHaveLength(0);
    await post('recovered');
    expect(fake.messages().map((m) => m.text)).toEqual(['recovered']);
  });

  it('kind error answers HTTP 200 with ok: false', async () => {
    fake.inject({ kind: 'error', error: 'fatal_error' });
    const error = await failure(post());
    expect(error.data).toMatchObject({ ok: false, error: 'fatal_error' });
  });

  it('applies only to the method and channel named', async () => {
    fake.inject({ kind: '503', method: 'chat.postMessage', channel: LEADS });
    await client.auth.test();
    await post('handoffs fine');
    await expect(client.chat.postMessage({ channel: LEADS, text: 'x' })).rejects.toMatchObject({
      statusCode: 503,
    });
  });
});

describe('connection faults', () => {
  it('reset_after_post: the client errors, yet the message exists and replies finds it by metadata', async () => {
    const parent = await post('hand-off');
    const threadTs = parent.ts ?? '';
    fake.inject({ kind: 'reset_after_post', method: 'chat.postMessage' });
    const metadata = { event_type: 'linkline_outbound', event_payload: { outbox_id: 'ob-17' } };
    const error = await failure(
      client.chat.postMessage({ channel: HANDOFFS, thread_ts: threadTs, text: 'reply', metadata }),
    );
    expect(error.code).toBe(ErrorCode.RequestError);
    expect(fake.calls('chat.postMessage').at(-1)?.outcome).toBe('reset');
    const thread = await client.conversations.replies({
      channel: HANDOFFS,
      ts: threadTs,
      include_all_metadata: true,
    });
    const payload = (m: { metadata?: { event_payload?: object } }) =>
      m.metadata?.event_payload as Record<string, unknown> | undefined;
    const ours = thread.messages?.filter((m) => payload(m)?.outbox_id === 'ob-17');
    expect(ours?.map((m) => m.text)).toEqual(['reply']);
  });

  it('reset_before: the client errors and nothing is posted', async () => {
    fake.inject({ kind: 'reset_before', method: 'chat.postMessage' });
    expect((await failure(post())).code).toBe(ErrorCode.RequestError);
    expect(fake.messages()).toHaveLength(0);
  });

  it('hang: the client times out and nothing is posted; hang_after_post: posted', async () => {
    const quick = clientFor(fake, { timeout: 200 });
    fake.inject({ kind: 'hang', method: 'chat.postMessage' });
    expect((await failure(post('lost', quick))).code).toBe(ErrorCode.RequestError);
    expect(fake.messages()).toHaveLength(0);
    fake.inject({ kind: 'hang_after_post', method: 'chat.postMessage' });
    expect((await failure(post('kept', quick))).code).toBe(ErrorCode.RequestError);
    expect(fake.messages().map((m) => m.text)).toEqual(['kept']);
    expect(fake.calls('chat.postMessage').map((c) => c.outcome)).toEqual(['hang', 'hang']);
  });

  it('the default client (retries on) turns a lost response into a duplicate', async () => {
    fake.inject({ kind: 'reset_after_post', method: 'chat.postMessage' });
    const naive = clientFor(fake, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    await post('twice?', naive);
    expect(fake.messages().map((m) => m.text)).toEqual(['twice?', 'twice?']);
  });

  it('clearFaults disarms what is left', async () => {
    fake.inject({ kind: '500', times: 5 });
    fake.clearFaults();
    expect((await post()).ok).toBe(true);
  });
});

describe('calls()', () => {
  it('records each call with its time, arguments (no token) and outcome', async () => {
    const before = Date.now();
    await post('x');
    const [call] = fake.calls();
    expect(call).toMatchObject({ method: 'chat.postMessage', outcome: 200, ok: true, error: null });
    expect(call?.params).toMatchObject({ channel: HANDOFFS, text: 'x' });
    expect(call?.params).not.toHaveProperty('token');
    expect(call?.at.getTime()).toBeGreaterThanOrEqual(before - 5);
  });
});
