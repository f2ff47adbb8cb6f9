import { isValidSlackRequest, verifySlackRequest } from '@slack/bolt';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { slackSignature } from '../../../src/sandbox/slack/signature.js';

// Slack's worked example ("Verifying requests from Slack").
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = 1531420618;
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V' +
  '&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
  '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
  '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

const SECRET = 'linkline-test-signing-secret';
const NOW_MS = Date.UTC(2024, 10, 24, 10, 0, 0);
const NOW_S = NOW_MS / 1000;

const boltAccepts = (body: string, signature: string, timestamp: number, secret = SECRET) =>
  isValidSlackRequest({
    signingSecret: secret,
    body,
    headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
    nowMilliseconds: NOW_MS,
  });

describe('slackSignature agrees with Slack and with Bolt', () => {
  it("reproduces Slack's documented example, which Bolt accepts", () => {
    expect(slackSignature(DOC_SECRET, DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(() =>
      verifySlackRequest({
        signingSecret: DOC_SECRET,
        body: DOC_BODY,
        headers: { 'x-slack-signature': DOC_SIGNATURE, 'x-slack-request-timestamp': DOC_TIMESTAMP },
        nowMilliseconds: DOC_TIMESTAMP * 1000,
      }),
    ).not.toThrow();
  });

  it.each([
    ['an Events API JSON body', JSON.stringify({ type: 'event_callback', event: { text: 'Hi' } })],
    ['unicode and escapes', JSON.stringify({ text: 'Ŵ ŷ 👍 "quoted" \\ \n <@U1> &amp;' })],
    ['a payload= form', `payload=${encodeURIComponent(JSON.stringify({ a: 'é & +' }))}`],
    ['an empty body', ''],
  ])('for %s', (_name, body) => {
    expect(boltAccepts(body, slackSignature(SECRET, NOW_S, body), NOW_S)).toBe(true);
  });

  it('for arbitrary bodies and timestamps within the window', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }),
        fc.integer({ min: -299, max: 0 }),
        (body, skew) => {
          const ts = NOW_S + skew;
          return boltAccepts(body, slackSignature(SECRET, ts, body), ts);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('forged signatures fail Bolt', () => {
  const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev1' });

  it('a wrong secret', () => {
    expect(boltAccepts(body, slackSignature('not-the-secret', NOW_S, body), NOW_S)).toBe(false);
  });

  it('a body changed after signing, even by one byte', () => {
    expect(boltAccepts(`${body} `, slackSignature(SECRET, NOW_S, body), NOW_S)).toBe(false);
  });

  it('a timestamp other than the signed one', () => {
    expect(boltAccepts(body, slackSignature(SECRET, NOW_S, body), NOW_S - 1)).toBe(false);
  });

  it('a valid HMAC 6 minutes old (stale)', () => {
    const stale = NOW_S - 360;
    expect(boltAccepts(body, slackSignature(SECRET, stale, body), stale)).toBe(false);
  });

  it('but NOT a valid HMAC 6 minutes ahead: Bolt checks only the past, the app must add it', () => {
    const future = NOW_S + 360;
    expect(boltAccepts(body, slackSignature(SECRET, future, body), future)).toBe(true);
  });
});
