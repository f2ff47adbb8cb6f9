import twilio from 'twilio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { parseStatusCallback } from '../../../src/channels/sms/status.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  FROM,
  type Received,
  SERVICE_SID,
  startReceiver,
  twilioConfig,
} from '../../channels/sms/fixtures.js';
import { capturedLogger } from '../../support/log-capture.js';

const PUBLIC = 'https://linkline.example.org';
const TO = '+447700900123';

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let fake: TwilioFake;
let sender: SmsSender;

async function start(options: { statusCallbacks?: boolean; callbackDelayMs?: number } = {}) {
  fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    webhookUrl: `${PUBLIC}/webhooks/twilio/sms`,
    webhookPostUrl: `${receiver.url}/webhooks/twilio/sms`,
    routeCallback: (url) => url.replace(PUBLIC, receiver.url),
    callbackDelayMs: 1,
    ...options,
  });
  sender = createSmsSender(twilioConfig(fake.url), { logger: capturedLogger().logger });
}

beforeEach(async () => {
  receiver = await startReceiver();
});
afterEach(async () => {
  sender.close();
  await fake.stop();
  await receiver.stop();
});

const signedOk = (r: Received) =>
  twilio.validateRequest(
    AUTH_TOKEN,
    r.signature ?? '',
    `${PUBLIC}${r.path}${r.rawQuery ? `?${r.rawQuery}` : ''}`,
    r.params,
  );

const send = (to = TO, ourId = 'out-1') =>
  sender.send({ ourId, to, body: 'Hi', statusCallbackUrl: `${PUBLIC}/webhooks/twilio/status` });

describe('status callbacks', () => {
  it('posts sent then delivered, signed over the public URL with our id', async () => {
    await start();
    const result = await send();
    await fake.settled();
    expect(receiver.received.map((r) => r.params.MessageStatus)).toEqual(['sent', 'delivered']);
    for (const r of receiver.received) {
      expect(signedOk(r)).toBe(true);
      expect(r.rawQuery).toBe('m=out-1');
      expect(r.params).toMatchObject({
        MessageSid: result.kind === 'sent' ? result.sid : '',
        SmsSid: result.kind === 'sent' ? result.sid : '',
        AccountSid: ACCOUNT_SID,
        To: TO,
        From: FROM,
        ApiVersion: '2010-04-01',
        SmsStatus: r.params.MessageStatus,
      });
      expect(parseStatusCallback(r.params, new URLSearchParams(r.rawQuery)).ok).toBe(true);
    }
    expect(fake.messages()[0]).toMatchObject({ status: 'delivered' });
  });

  it('goes through queued for a Messaging Service and assigns a sender', async () => {
    await start();
    sender.close();
    sender = createSmsSender(
      twilioConfig(fake.url, { from: null, messagingServiceSid: SERVICE_SID }),
      {
        logger: capturedLogger().logger,
      },
    );
    await send();
    await fake.settled();
    expect(receiver.received.map((r) => r.params.MessageStatus)).toEqual([
      'queued',
      'sent',
      'delivered',
    ]);
    expect(receiver.received[0]?.params.MessagingServiceSid).toBe(SERVICE_SID);
    expect(fake.messages()[0]?.from).toBe('+15005550006');
  });

  it.each([
    ['+447700900903', ['sent', 'undelivered'], '30003'],
    ['+447700900905', ['sent', 'undelivered'], '30005'],
    ['+447700900908', ['failed'], '30008'],
    ['+447700900936', ['failed'], '30036'],
  ])('%s ends %s with ErrorCode %s', async (to, statuses, code) => {
    await start();
    await send(to);
    await fake.settled();
    expect(receiver.received.map((r) => r.params.MessageStatus)).toEqual(statuses);
    expect(receiver.received.at(-1)?.params.ErrorCode).toBe(code);
    expect(fake.messages()[0]?.errorCode).toBe(Number(code));
  });

  it('many messages progressing at once raise no listener-leak warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      await start({ callbackDelayMs: 50 });
      await Promise.all(Array.from({ length: 30 }, (_, i) => send(TO, `out-${i}`)));
      await fake.settled();
      // Node emits process warnings on a later tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(receiver.received).toHaveLength(60);
    expect(warnings).not.toContain('MaxListenersExceededWarning');
  });

  it('can be turned off, and driven by hand out of order', async () => {
    await start({ statusCallbacks: false });
    const result = await send();
    await fake.settled();
    expect(receiver.received).toHaveLength(0);
    const sid = result.kind === 'sent' ? result.sid : '';
    await fake.emitStatus(sid, 'delivered');
    await fake.emitStatus(sid, 'sent');
    expect(receiver.received.map((r) => r.params.MessageStatus)).toEqual(['delivered', 'sent']);
    expect(fake.messages()[0]?.status).toBe('delivered');
    expect(fake.callbacks().map((c) => c.reply.status)).toEqual([200, 200]);
  });
});

describe('sendInbound', () => {
  it('posts the realistic form, signed for the configured URL', async () => {
    await start();
    const delivery = await fake.sendInbound({ from: TO, to: FROM, body: 'Yes' });
    expect(delivery.status).toBe(200);
    const got = receiver.received[0];
    if (!got) throw new Error('nothing received');
    expect(signedOk(got)).toBe(true);
    expect(Object.keys(got.params).sort()).toEqual(
      [
        'AccountSid',
        'ApiVersion',
        'Body',
        'From',
        'FromCity',
        'FromCountry',
        'FromState',
        'FromZip',
        'MessageSid',
        'NumMedia',
        'NumSegments',
        'SmsMessageSid',
        'SmsSid',
        'SmsStatus',
        'To',
        'ToCity',
        'ToCountry',
        'ToState',
        'ToZip',
      ].sort(),
    );
    expect(got.params).toMatchObject({
      SmsStatus: 'received',
      NumMedia: '0',
      NumSegments: '1',
      FromCountry: 'GB',
    });
    expect(got.params.MessageSid).toBe(delivery.messageSid);
    expect(fake.allMessages().find((m) => m.direction === 'inbound')?.body).toBe('Yes');
  });

  it('sends media parameters for an MMS', async () => {
    await start();
    await fake.sendInbound({
      from: TO,
      to: FROM,
      body: '',
      mediaUrls: [
        'https://media.example/a.jpg',
        { url: 'https://media.example/b.png', contentType: 'image/png' },
      ],
    });
    const params = receiver.received[0]?.params ?? {};
    expect(params).toMatchObject({
      NumMedia: '2',
      MediaUrl0: 'https://media.example/a.jpg',
      MediaContentType0: 'image/jpeg',
      MediaContentType1: 'image/png',
    });
    expect(params.MessageSid).toMatch(/^MM/);
  });

  it('replays the same MessageSid when asked (duplicate delivery)', async () => {
    await start();
    const first = await fake.sendInbound({ from: TO, to: FROM, body: 'Yes' });
    await fake.sendInbound({ from: TO, to: FROM, body: 'Yes', messageSid: first.messageSid });
    expect(receiver.received.map((r) => r.params.MessageSid)).toEqual([
      first.messageSid,
      first.messageSid,
    ]);
  });

  it('can forge: another token, or no signature at all', async () => {
    await start();
    await fake.sendInbound({ from: TO, to: FROM, body: 'x', authToken: 'not-the-token' });
    await fake.sendInbound({ from: TO, to: FROM, body: 'x', signature: null });
    expect(signedOk(receiver.received[0] as Received)).toBe(false);
    expect(receiver.received[1]?.signature).toBeUndefined();
  });

  it('STOP blocks later sends from that number (21610) and START lifts it', async () => {
    await start();
    expect((await fake.sendInbound({ from: TO, to: FROM, body: ' stop ' })).keyword).toBe('stop');
    expect(await send()).toMatchObject({ kind: 'permanent', code: '21610', reason: 'opted_out' });
    expect(fake.isOptedOut('+447700900101', TO)).toBe(false);
    expect((await fake.sendInbound({ from: TO, to: FROM, body: 'START' })).keyword).toBe('start');
    expect(await send()).toMatchObject({ kind: 'sent' });
  });

  it('does not treat a sentence containing stop as the keyword', async () => {
    await start();
    expect(
      (await fake.sendInbound({ from: TO, to: FROM, body: 'please stop texting me' })).keyword,
    ).toBeNull();
    expect(fake.isOptedOut(FROM, TO)).toBe(false);
  });

  it('sends the TwiML <Message> a webhook answers with', async () => {
    await start();
    receiver.setReply(
      '<?xml version="1.0"?><Response><Message>Thanks &amp; bye</Message></Response>',
    );
    await fake.sendInbound({ from: TO, to: FROM, body: 'hi' });
    const reply = fake.allMessages().find((m) => m.direction === 'outbound-reply');
    expect(reply).toMatchObject({ to: TO, from: FROM, body: 'Thanks & bye' });
    expect(fake.messages()).toHaveLength(0);
  });
});
