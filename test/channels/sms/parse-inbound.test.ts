import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInbound } from '../../../src/channels/sms/parse-inbound.js';
import { verifyTwilioRequest } from '../../../src/channels/sms/verify.js';
import { inboundParams } from '../../../src/sandbox/twilio/inbound.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { ACCOUNT_SID, AUTH_TOKEN, startReceiver } from './fixtures.js';

const PUBLIC_URL = 'https://linkline.example.org';
const PATH = '/webhooks/twilio/sms';
const SID = `SM${'ab'.repeat(16)}`;
const base = inboundParams(
  { from: '+447700900123', to: '+447700900100', body: 'Hi' },
  ACCOUNT_SID,
  SID,
);

const AWKWARD: readonly [string, string][] = [
  ['leading and trailing spaces', '  yes  '],
  ['newlines', 'line one\nline two\r\nline three\n'],
  ['plus, ampersand, percent', '1+1=2 & 100% sure %20 +'],
  ['emoji', 'Thanks 👍🏽 see you 🌳'],
  ['Welsh diacritics', 'Diolch yn fawr, ŵyr a ŷd, â ê î ô û'],
  ['only spaces', '   '],
  ['empty', ''],
  ['1,600 characters', `${'Ŵ'.repeat(799)}${' x'.repeat(400)}${'!'.repeat(2)}`.slice(0, 1600)],
];

describe('parseInbound', () => {
  it('parses the full form Twilio sends', () => {
    const parsed = parseInbound(base);
    expect(parsed).toEqual({
      ok: true,
      value: {
        messageSid: SID,
        accountSid: ACCOUNT_SID,
        from: '+447700900123',
        to: '+447700900100',
        body: 'Hi',
        numSegments: 1,
        numMedia: 0,
        media: [],
        messagingServiceSid: null,
        fromCountry: 'GB',
        optOutType: null,
      },
    });
  });

  it('reads media and segment counts (checklist 20, 21)', () => {
    const mms = {
      ...base,
      MessageSid: `MM${'cd'.repeat(16)}`,
      NumMedia: '2',
      NumSegments: '3',
      MediaUrl0: 'https://api.twilio.com/m/0',
      MediaContentType0: 'image/jpeg',
      MediaUrl1: 'https://api.twilio.com/m/1',
    };
    const parsed = parseInbound(mms);
    expect(parsed.ok && parsed.value.media).toEqual([
      { url: 'https://api.twilio.com/m/0', contentType: 'image/jpeg' },
      { url: 'https://api.twilio.com/m/1', contentType: null },
    ]);
    expect(parsed.ok && parsed.value.numSegments).toBe(3);
  });

  it('defaults a missing Body to the empty string', () => {
    const { Body: _omit, ...noBody } = base;
    const parsed = parseInbound(noBody);
    expect(parsed.ok && parsed.value.body).toBe('');
  });

  it.each([
    ['a missing MessageSid', { MessageSid: undefined }, 'MessageSid'],
    ['a malformed MessageSid', { MessageSid: 'SM123' }, 'MessageSid'],
    ['a bad AccountSid', { AccountSid: 'nope' }, 'AccountSid'],
    ['a missing From', { From: undefined }, 'From'],
    ['a non-numeric NumMedia', { NumMedia: 'two' }, 'NumMedia'],
    ['NumMedia without its MediaUrl', { NumMedia: '1' }, 'MediaUrl0'],
    ['a repeated Body', { Body: ['a', 'b'] }, 'Body'],
  ])('lists field errors for %s', (_name, change, field) => {
    const form: Record<string, string | string[]> = { ...base };
    for (const [k, v] of Object.entries(change)) {
      if (v === undefined) delete form[k];
      else form[k] = v;
    }
    const parsed = parseInbound(form);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.errors.map((e) => e.field)).toContain(field);
  });
});

describe('awkward bodies through the fake, the signature and the parser (checklist 8)', () => {
  let fake: TwilioFake;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      webhookUrl: `${PUBLIC_URL}${PATH}`,
      webhookPostUrl: `${receiver.url}${PATH}`,
    });
  });
  afterAll(async () => {
    await fake.stop();
    await receiver.stop();
  });

  it.each(AWKWARD)('%s: signature valid and Body byte-for-byte', async (_name, body) => {
    const delivery = await fake.sendInbound({ from: '+447700900123', to: '+447700900100', body });
    expect(delivery.status).toBe(200);
    const got = receiver.received.at(-1);
    if (!got) throw new Error('nothing received');
    const outcome = verifyTwilioRequest({
      authTokens: [AUTH_TOKEN],
      publicUrl: PUBLIC_URL,
      path: got.path,
      rawQuery: got.rawQuery,
      params: got.params,
      signature: got.signature,
    });
    expect(outcome).toBe('ok');
    const parsed = parseInbound(got.params);
    expect(parsed.ok && Buffer.from(parsed.value.body)).toEqual(Buffer.from(body));
  });
});
