import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedUrl, verifyTwilioRequest } from '../../../src/channels/sms/verify.js';
import { inboundParams } from '../../../src/sandbox/twilio/inbound.js';
import {
  startTwilioFake,
  type TwilioFake,
  twilioSignature,
} from '../../../src/sandbox/twilio/index.js';
import { ACCOUNT_SID, AUTH_TOKEN, startReceiver } from './fixtures.js';

const PUBLIC_URL = 'https://linkline.example.org';
const PATH = '/webhooks/twilio/sms';
const SID = `SM${'0f'.repeat(16)}`;
const params = inboundParams(
  { from: '+447700900123', to: '+447700900100', body: 'Yes please' },
  ACCOUNT_SID,
  SID,
);
const sign = (url: string, p: Record<string, string> = params, token = AUTH_TOKEN) =>
  twilioSignature(token, url, p);
const verify = (over: Partial<Parameters<typeof verifyTwilioRequest>[0]> = {}) =>
  verifyTwilioRequest({
    authTokens: [AUTH_TOKEN],
    publicUrl: PUBLIC_URL,
    path: PATH,
    params,
    signature: sign(`${PUBLIC_URL}${PATH}`),
    ...over,
  });

function flipOneByte(signature: string): string {
  const i = 5;
  return signature.slice(0, i) + (signature[i] === 'A' ? 'B' : 'A') + signature.slice(i + 1);
}

describe('verifyTwilioRequest (checklist 1-8, 10, 11)', () => {
  it.each([
    ['a valid signature', {}, 'ok'],
    [
      'a signature with one byte changed',
      { signature: flipOneByte(sign(`${PUBLIC_URL}${PATH}`)) },
      'invalid',
    ],
    [
      'a signature made with another token',
      { signature: sign(`${PUBLIC_URL}${PATH}`, params, 'other') },
      'invalid',
    ],
    ['no signature header', { signature: undefined }, 'missing'],
    ['an empty signature header', { signature: '' }, 'missing'],
    ['Body changed after signing', { params: { ...params, Body: 'No' } }, 'invalid'],
    ['From changed after signing', { params: { ...params, From: '+447700900999' } }, 'invalid'],
    ['a parameter added after signing', { params: { ...params, Injected: '1' } }, 'invalid'],
    [
      'a parameter removed after signing',
      { params: { ...params, NumMedia: undefined as unknown as string } },
      'invalid',
    ],
    ['a different path', { path: '/webhooks/twilio/status' }, 'invalid'],
    ['no tokens configured', { authTokens: [] }, 'invalid'],
  ] as const)('%s -> %s', (_name, over, expected) => {
    expect(verify(over as Parameters<typeof verify>[0])).toBe(expected);
  });

  it('accepts an unknown future parameter that Twilio signed (checklist 5)', () => {
    const withNew = { ...params, Foo: 'bar' };
    expect(verify({ params: withNew, signature: sign(`${PUBLIC_URL}${PATH}`, withNew) })).toBe(
      'ok',
    );
  });

  it('rejects a request signed for another host, whatever its Host header said (checklist 7)', () => {
    expect(verify({ signature: sign(`https://evil.example${PATH}`) })).toBe('invalid');
  });

  it('validates against the configured public URL with its query string', () => {
    const url = `${PUBLIC_URL}${PATH}?tenant=north&x=a%20b`;
    expect(verify({ rawQuery: 'tenant=north&x=a%20b', signature: sign(url) })).toBe('ok');
    expect(verify({ path: `${PATH}?tenant=north&x=a%20b`, signature: sign(url) })).toBe('ok');
    expect(verify({ rawQuery: 'tenant=south&x=a%20b', signature: sign(url) })).toBe('invalid');
  });

  it('accepts a signature over the URL with the explicit :443 (checklist 6)', () => {
    expect(verify({ signature: sign(`https://linkline.example.org:443${PATH}`) })).toBe('ok');
    expect(verify({ publicUrl: 'https://linkline.example.org:443/' })).toBe('ok');
  });

  it('accepts either configured token during rotation, and not a removed one (checklist 11)', () => {
    const old = 'old-token-aaaaaaaaaaaaaaaaaaaaaaaa';
    const next = 'new-token-bbbbbbbbbbbbbbbbbbbbbbbb';
    const byOld = sign(`${PUBLIC_URL}${PATH}`, params, old);
    const byNew = sign(`${PUBLIC_URL}${PATH}`, params, next);
    expect(verify({ authTokens: [old, next], signature: byOld })).toBe('ok');
    expect(verify({ authTokens: [next, old], signature: byNew })).toBe('ok');
    expect(verify({ authTokens: [next], signature: byOld })).toBe('invalid');
    expect(verify({ authTokens: [next], signature: byNew })).toBe('ok');
  });

  it('builds the signed URL from the configured base, never the request host', () => {
    expect(signedUrl('https://a.example/', '/x', 'q=1')).toBe('https://a.example/x?q=1');
    expect(signedUrl('https://a.example/base', '/x')).toBe('https://a.example/base/x');
  });

  it('compares in constant time via twilio.validateRequest, never === (checklist 10)', () => {
    const source = readFileSync(
      new URL('../../../src/channels/sms/verify.ts', import.meta.url),
      'utf8',
    );
    expect(source).toContain('twilio.validateRequest(');
    expect(source).not.toMatch(/signature\s*={2,3}\s*[^'\s=]/);
  });
});

describe('verifyTwilioRequest on what the fake posts', () => {
  let fake: TwilioFake;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    receiver = await startReceiver();
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      webhookUrl: `${PUBLIC_URL}${PATH}?src=twilio`,
      webhookPostUrl: `${receiver.url}${PATH}?src=twilio`,
    });
  });
  afterAll(async () => {
    await fake.stop();
    await receiver.stop();
  });

  it('is valid behind a TLS-terminating proxy (http internal, https public)', async () => {
    await fake.sendInbound({ from: '+447700900123', to: '+447700900100', body: 'hello' });
    const got = receiver.received.at(-1);
    expect(got?.host).toMatch(/^127\.0\.0\.1:/);
    const outcome = verifyTwilioRequest({
      authTokens: [AUTH_TOKEN],
      publicUrl: PUBLIC_URL,
      path: got?.path ?? '',
      rawQuery: got?.rawQuery ?? '',
      params: got?.params ?? {},
      signature: got?.signature,
    });
    expect(outcome).toBe('ok');
  });

  it('is invalid when checked against the internal URL the request arrived on', async () => {
    const got = receiver.received.at(-1);
    const outcome = verifyTwilioRequest({
      authTokens: [AUTH_TOKEN],
      publicUrl: receiver.url,
      path: got?.path ?? '',
      rawQuery: got?.rawQuery ?? '',
      params: got?.params ?? {},
      signature: got?.signature,
    });
    expect(outcome).toBe('invalid');
  });
});
