import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { twilioGateway } from '../../../src/channels/sms/gateway.js';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { useLogWatch } from '../../support/pipeline.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, twilioConfig } from './fixtures.js';

const MOBILE = '+447700900123';
const PUBLIC_URL = 'https://linkline.example.org/';
const OUR_ID = '6a1b1f52-6f57-4d38-9a7e-2b1b0f4f5c11';

let fake: TwilioFake;
let sender: SmsSender;
// Checklist 90: the sender logs at trace into memory, leak-checked after each test.
const logs = useLogWatch(null);
logs.leaks.phone(MOBILE, 'the recipient');
logs.leaks.add('the Twilio auth token', AUTH_TOKEN);
for (const phone of ['+441632960123', '+442079460000', '+448001111111'])
  logs.leaks.phone(phone, 'a landline recipient');
for (const body of [
  'See you at 10.',
  'Your group is tomorrow.',
  'Only once, please.',
  'Stored body',
])
  logs.leaks.add('an SMS body sent', body);

beforeEach(async () => {
  fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    statusCallbacks: false,
  });
  sender = createSmsSender(twilioConfig(fake.url), {
    logger: logs.logger,
    httpTimeoutMs: 1_000,
  });
});

afterEach(async () => {
  sender.close();
  await fake.stop();
});

describe('twilioGateway over the real SDK and the local Twilio', () => {
  it('sends with our id in the StatusCallback URL and a ValidityPeriod', async () => {
    const gateway = twilioGateway(sender, { publicUrl: PUBLIC_URL, validitySeconds: 7200 });
    const outcome = await gateway.send({ ourId: OUR_ID, to: MOBILE, body: 'See you at 10.' });
    expect(outcome.kind).toBe('sent');
    const [message] = fake.messages();
    expect(message).toMatchObject({
      to: MOBILE,
      from: FROM,
      body: 'See you at 10.',
      statusCallback: `https://linkline.example.org/sms/status?m=${OUR_ID}`,
      validityPeriod: 7200,
    });
    expect(outcome.kind === 'sent' && outcome.sid).toBe(message?.sid);
  });

  it('38: a landline, a special-rate or an invalid number is never sent to', async () => {
    const gateway = twilioGateway(sender, { publicUrl: PUBLIC_URL });
    const cases = [
      ['+441632960123', 'landline'],
      ['+442079460000', 'landline'],
      ['+448001111111', 'landline'],
      ['+4477', 'invalid_number'],
      ['07700900123', 'invalid_number'],
    ] as const;
    for (const [to, reason] of cases) {
      const outcome = await gateway.send({ ourId: OUR_ID, to, body: 'Your group is tomorrow.' });
      expect(outcome, to).toEqual({ kind: 'permanent', code: reason, reason });
    }
    expect(fake.requests()).toEqual([]);
  });

  it('29: a number that texted STOP to our sender is a permanent opted_out outcome', async () => {
    fake.optOut(FROM, MOBILE);
    const gateway = twilioGateway(sender, { publicUrl: PUBLIC_URL });
    const outcome = await gateway.send({ ourId: OUR_ID, to: MOBILE, body: 'hi' });
    expect(outcome).toEqual({ kind: 'permanent', code: '21610', reason: 'opted_out' });
  });

  it('34: a 429 is retryable, with the wait Twilio asked for', async () => {
    fake.inject({ kind: '429', retryAfterSeconds: 2 });
    const gateway = twilioGateway(sender, { publicUrl: PUBLIC_URL });
    const outcome = await gateway.send({ ourId: OUR_ID, to: MOBILE, body: 'hi' });
    expect(outcome).toEqual({ kind: 'retryable', code: '20429', retryAfterMs: 2000 });
    expect(fake.messages()).toHaveLength(0);
  });

  it('35: a reset after Twilio accepted is reconciled in the call: one message, reported sent', async () => {
    fake.inject({ kind: 'reset_after_accept' });
    const gateway = twilioGateway(sender, {
      publicUrl: PUBLIC_URL,
      retry: { reconcileDelayMs: 10 },
    });
    const outcome = await gateway.send({ ourId: OUR_ID, to: MOBILE, body: 'Only once, please.' });
    expect(outcome.kind).toBe('sent');
    expect(fake.messages()).toHaveLength(1);
    expect(outcome.kind === 'sent' && outcome.sid).toBe(fake.messages()[0]?.sid);
  });

  it('35: reconcile from another process finds the message through the stored body', async () => {
    await twilioGateway(sender, { publicUrl: PUBLIC_URL }).send({
      ourId: OUR_ID,
      to: MOBILE,
      body: 'Stored body',
    });
    const since = new Date(Date.now() - 5_000);
    const other = twilioGateway(sender, {
      publicUrl: PUBLIC_URL,
      bodyOf: async (id) => (id === OUR_ID ? 'Stored body' : null),
    });
    expect(await other.reconcile({ ourId: OUR_ID, to: MOBILE, since })).toEqual({
      sid: fake.messages()[0]?.sid,
    });
    // Nothing to that number: too soon after the attempt to be sure, then sure.
    expect(await other.reconcile({ ourId: OUR_ID, to: '+447700900124', since })).toEqual({
      waitMs: expect.any(Number),
    });
    const long = new Date(Date.now() - 121_000);
    expect(await other.reconcile({ ourId: OUR_ID, to: '+447700900124', since: long })).toBeNull();
    const blind = twilioGateway(sender, { publicUrl: PUBLIC_URL });
    await expect(blind.reconcile({ ourId: OUR_ID, to: MOBILE, since })).rejects.toThrow(
      /body unknown/,
    );
  });

  it('a reconcile whose lookup fails throws rather than allowing a resend', async () => {
    const gateway = twilioGateway(sender, {
      publicUrl: PUBLIC_URL,
      bodyOf: async () => 'x',
    });
    fake.inject({ kind: '500', match: { op: 'list' } });
    await expect(
      gateway.reconcile({ ourId: OUR_ID, to: MOBILE, since: new Date() }),
    ).rejects.toThrow(/reconcile failed/);
  });
});
