import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { backoffMs, sendWithRetry } from '../../../src/channels/sms/retry.js';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { capturedLogger } from '../../support/log-capture.js';
import { ACCOUNT_SID, AUTH_TOKEN, twilioConfig } from './fixtures.js';

const REQUEST = {
  ourId: 'outbox-42',
  to: '+447700900123',
  body: 'Reminder: walking group, Thursday 10:00 at the park gates.',
  statusCallbackUrl: 'https://linkline.example.org/webhooks/twilio/status',
};

let fake: TwilioFake;
let sender: SmsSender;
let waits: number[];

const options = () => ({
  baseDelayMs: 100,
  random: () => 0.5,
  reconcileDelayMs: 0,
  sleep: async (ms: number) => {
    waits.push(ms);
  },
});

beforeEach(async () => {
  waits = [];
  fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    statusCallbacks: false,
  });
  // resendAfterMs 0: these are the retry loop's cases; the window has its own test below.
  sender = createSmsSender(twilioConfig(fake.url), {
    logger: capturedLogger().logger,
    httpTimeoutMs: 300,
    resendAfterMs: 0,
  });
});

afterEach(async () => {
  sender.close();
  await fake.stop();
});

const creates = () => fake.requests().filter((r) => r.op === 'create');

describe('sendWithRetry (checklist 34-36)', () => {
  it('429 twice then 201: exactly one message, waiting Retry-After plus jitter', async () => {
    fake.inject({ kind: '429', times: 2, retryAfterSeconds: 1 });
    const result = await sendWithRetry(sender, REQUEST, options());
    expect(result).toMatchObject({ kind: 'sent', attempts: 3 });
    expect(fake.messages()).toHaveLength(1);
    expect(creates().map((r) => r.outcome)).toEqual([429, 429, 201]);
    expect(waits).toEqual([1050, 1050]);
  });

  it('reset after accept: reconciles instead of resending, so one SMS', async () => {
    fake.inject({ kind: 'reset_after_accept' });
    const result = await sendWithRetry(sender, REQUEST, options());
    expect(result).toMatchObject({ kind: 'sent', attempts: 1, reconciled: true });
    expect(fake.messages()).toHaveLength(1);
    expect(result.kind === 'sent' && result.sid).toBe(fake.messages()[0]?.sid);
  });

  it('hang after accept (timeout): reconciled, one SMS', async () => {
    fake.inject({ kind: 'hang_after_accept' });
    const result = await sendWithRetry(sender, REQUEST, options());
    expect(result).toMatchObject({ kind: 'sent', reconciled: true });
    expect(fake.messages()).toHaveLength(1);
  });

  it('reset before accept: nothing at Twilio, so it is sent again, once', async () => {
    fake.inject({ kind: 'reset_before_accept' });
    const result = await sendWithRetry(sender, REQUEST, options());
    expect(result).toMatchObject({ kind: 'sent', attempts: 2 });
    expect(result).not.toHaveProperty('reconciled');
    expect(fake.messages()).toHaveLength(1);
  });

  it('5xx every time: at most maxAttempts, exponential full-jitter waits, then retryable', async () => {
    fake.inject({ kind: '500', times: 10 });
    const result = await sendWithRetry(sender, REQUEST, { ...options(), maxAttempts: 3 });
    expect(result).toEqual({ kind: 'retryable', code: '20500', attempts: 3 });
    expect(waits).toEqual([50, 100]);
    expect(fake.messages()).toHaveLength(0);
  });

  it('hands a Retry-After longer than maxDelayMs back to the caller at once', async () => {
    fake.inject({ kind: '429', retryAfterSeconds: 120 });
    const result = await sendWithRetry(sender, REQUEST, { ...options(), maxDelayMs: 30_000 });
    expect(result).toEqual({
      kind: 'retryable',
      code: '20429',
      retryAfterMs: 120_000,
      attempts: 1,
    });
    expect(waits).toEqual([]);
  });

  it('does not retry a permanent failure', async () => {
    const result = await sendWithRetry(sender, { ...REQUEST, to: '+15005550004' }, options());
    expect(result).toEqual({ kind: 'permanent', code: '21610', reason: 'opted_out', attempts: 1 });
    expect(creates()).toHaveLength(1);
  });

  it('a timeout Twilio acts on after the first look: ambiguous, not resent inside the window', async () => {
    const careful = createSmsSender(twilioConfig(fake.url), {
      logger: capturedLogger().logger,
      httpTimeoutMs: 300,
      resendAfterMs: 60_000,
    });
    fake.inject({ kind: 'accept_late', delayMs: 1_000 });
    const result = await sendWithRetry(careful, REQUEST, { ...options(), reconcileDelayMs: 200 });
    careful.close();
    expect(result).toMatchObject({ kind: 'ambiguous', attempts: 1 });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(creates()).toHaveLength(1);
    expect(fake.messages()).toHaveLength(1);
  });

  it('returns ambiguous, without resending, when reconciliation cannot tell', async () => {
    fake.inject({ kind: 'reset_after_accept' });
    fake.inject({ kind: '503', match: { op: 'list' } });
    const result = await sendWithRetry(sender, REQUEST, options());
    expect(result).toMatchObject({ kind: 'ambiguous', attempts: 1 });
    expect(creates()).toHaveLength(1);
  });
});

describe('backoffMs', () => {
  const settings = { baseDelayMs: 500, maxDelayMs: 30_000 };
  it.each([
    [1, 0.999, 499],
    [2, 0.999, 999],
    [3, 0.5, 1000],
    [10, 0.999, 29_970],
    [4, 0, 0],
  ])('attempt %i with random %d waits %i ms', (attempt, r, expected) => {
    expect(backoffMs(attempt, undefined, { ...settings, random: () => r })).toBe(expected);
  });

  it('waits Retry-After plus up to one base of jitter', () => {
    expect(backoffMs(1, 2000, { ...settings, random: () => 0.2 })).toBe(2100);
  });
});
