import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { capturedLogger } from '../../support/log-capture.js';
import { ACCOUNT_SID, AUTH_TOKEN, FROM, SERVICE_SID, twilioConfig } from './fixtures.js';

const TO = '+447700900123';
const CALLBACK = 'https://linkline.example.org/webhooks/twilio/status';

let fake: TwilioFake;
let sender: SmsSender;
let logs: () => string;

beforeEach(async () => {
  fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    statusCallbacks: false,
  });
  const captured = capturedLogger('trace');
  logs = captured.output;
  sender = createSmsSender(twilioConfig(fake.url), { logger: captured.logger, httpTimeoutMs: 500 });
});

afterEach(async () => {
  sender.close();
  await fake.stop();
});

const request = (body: string, ourId = 'out-1') => ({
  ourId,
  to: TO,
  body,
  statusCallbackUrl: CALLBACK,
});

describe('createSmsSender against the fake with the real twilio SDK', () => {
  it('sends a GSM-7 body: 201, a sid, one segment, our id in the StatusCallback', async () => {
    const result = await sender.send({
      ...request('Your session is on Tuesday at 10:00.'),
      validitySeconds: 3600,
    });
    expect(result).toMatchObject({
      kind: 'sent',
      status: 'queued',
      segments: 1,
      encoding: 'GSM-7',
    });
    expect(result.kind === 'sent' && result.sid).toMatch(/^SM[0-9a-f]{32}$/);
    const [stored] = fake.messages();
    expect(stored).toMatchObject({
      to: TO,
      from: FROM,
      statusCallback: `${CALLBACK}?m=out-1`,
      validityPeriod: 3600,
    });
  });

  it('counts UCS-2 segments when one character is outside GSM-7', async () => {
    const body = `See you at the garden ’${'x'.repeat(80)}`;
    const result = await sender.send(request(body));
    expect(result).toMatchObject({ kind: 'sent', segments: 2, encoding: 'UCS-2' });
    expect(fake.messages()[0]?.body).toBe(body);
  });

  it('the form survives our HTTP client byte for byte: reserved characters, spaces, emoji, a callback URL with a query', async () => {
    const body = 'Tea & cake = 2+2 at 50% off? a/b #1 “quoted” ’ 😀\nline two';
    const result = await sender.send({
      ...request(body, 'id&x=1 y'),
      statusCallbackUrl: `${CALLBACK}?tenant=a+b&x=%20`,
    });
    expect(result.kind).toBe('sent');
    const [stored] = fake.messages();
    expect(stored?.body).toBe(body);
    expect(stored?.to).toBe(TO);
    expect(new URL(stored?.statusCallback ?? '').searchParams.get('m')).toBe('id&x=1 y');
    expect(new URL(stored?.statusCallback ?? '').searchParams.get('tenant')).toBe('a b');
  });

  it('sends through a Messaging Service when configured (accepted)', async () => {
    sender.close();
    const config = twilioConfig(fake.url, { from: null, messagingServiceSid: SERVICE_SID });
    sender = createSmsSender(config, { logger: capturedLogger().logger });
    const result = await sender.send(request('Hello'));
    expect(result).toMatchObject({ kind: 'sent', status: 'accepted' });
    expect(fake.messages()[0]).toMatchObject({ messagingServiceSid: SERVICE_SID, from: null });
  });

  it('classifies 429 as retryable with Retry-After in milliseconds', async () => {
    fake.inject({ kind: '429', retryAfterSeconds: 2 });
    expect(await sender.send(request('Hi'))).toEqual({
      kind: 'retryable',
      code: '20429',
      retryAfterMs: 2000,
    });
    expect(fake.messages()).toHaveLength(0);
  });

  it.each(['500', '503'] as const)('classifies %s as retryable', async (kind) => {
    fake.inject({ kind });
    expect(await sender.send(request('Hi'))).toEqual({ kind: 'retryable', code: `20${kind}` });
  });

  it.each([
    ['+15005550004', '21610', 'opted_out'],
    ['+15005550001', '21211', 'invalid_number'],
    ['+441632960000', '21614', 'landline'],
    ['+15005550009', '21614', 'landline'],
    ['+15005550003', '21408', 'other'],
  ])('classifies a send to %s as permanent %s (%s)', async (to, code, reason) => {
    expect(await sender.send({ ...request('Hi'), to })).toEqual({
      kind: 'permanent',
      code,
      reason,
    });
  });

  it('treats a number that texted STOP to our sender as opted out (21610)', async () => {
    fake.optOut(FROM, TO);
    expect(await sender.send(request('Hi'))).toMatchObject({
      kind: 'permanent',
      reason: 'opted_out',
    });
  });

  it('reports a reset after Twilio accepted as ambiguous, and reconcile finds the message', async () => {
    const since = new Date();
    fake.inject({ kind: 'reset_after_accept' });
    expect(await sender.send(request('Reminder: art group tomorrow'))).toMatchObject({
      kind: 'ambiguous',
    });
    const [created] = fake.messages();
    const found = await sender.reconcile({
      ourId: 'out-1',
      to: TO,
      body: 'Reminder: art group tomorrow',
      since,
    });
    expect(found).toEqual({ kind: 'found', sid: created?.sid, status: 'queued', segments: 1 });
    expect(fake.messages()).toHaveLength(1);
  });

  it('reconcile finds nothing after a reset before Twilio accepted: not yet proof, then proof', async () => {
    const since = new Date();
    fake.inject({ kind: 'reset_before_accept' });
    expect(await sender.send(request('Reminder'))).toMatchObject({ kind: 'ambiguous' });
    const soon = await sender.reconcile({ ourId: 'out-1', to: TO, body: 'Reminder', since });
    expect(soon.kind).toBe('not_yet');
    const waitMs = soon.kind === 'not_yet' ? soon.waitMs : 0;
    expect(waitMs).toBeGreaterThan(115_000);
    expect(waitMs).toBeLessThanOrEqual(120_000);
    // The same look for an attempt that started over two minutes ago: nothing will come.
    const old = new Date(since.getTime() - 121_000);
    expect(
      await sender.reconcile({ ourId: 'out-1', to: TO, body: 'Reminder', since: old }),
    ).toEqual({ kind: 'not_found' });
  });

  it('reconcile after a timeout finds the message Twilio created once the call had given up', async () => {
    const since = new Date();
    fake.inject({ kind: 'accept_late', delayMs: 800 });
    expect(await sender.send(request('Late'))).toMatchObject({ kind: 'ambiguous' });
    expect((await sender.reconcile({ ourId: 'o', to: TO, body: 'Late', since })).kind).toBe(
      'not_yet',
    );
    await new Promise((r) => setTimeout(r, 800));
    expect(await sender.reconcile({ ourId: 'o', to: TO, body: 'Late', since })).toMatchObject({
      kind: 'found',
      sid: fake.messages()[0]?.sid,
    });
  });

  it('reconcile skips sids already linked and messages from before the attempt', async () => {
    // No window here: this is about which messages count, not about when to be sure.
    const sure = createSmsSender(twilioConfig(fake.url), {
      logger: capturedLogger().logger,
      resendAfterMs: 0,
    });
    await sender.send(request('Same words'));
    const first = fake.messages()[0]?.sid ?? '';
    const since = new Date();
    const found = await sure.reconcile({
      ourId: 'out-2',
      to: TO,
      body: 'Same words',
      since,
      excludeSids: [first],
    });
    sure.close();
    expect(found).toEqual({ kind: 'not_found' });
  });

  it('reconcile reports unknown when the lookup itself fails', async () => {
    fake.inject({ kind: '503', match: { op: 'list' } });
    const result = await sender.reconcile({ ourId: 'o', to: TO, body: 'x', since: new Date() });
    expect(result).toEqual({ kind: 'unknown', code: '20503' });
  });

  it('times out a hung request as ambiguous within the configured timeout', async () => {
    fake.inject({ kind: 'hang' });
    const started = Date.now();
    const result = await sender.send(request('Hi'));
    expect(result).toMatchObject({ kind: 'ambiguous' });
    expect(Date.now() - started).toBeLessThan(2500);
  });

  it('treats a refused connection (nothing written) as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = createSmsSender(twilioConfig(`http://127.0.0.1:${port}`), {
      logger: capturedLogger().logger,
    });
    expect(await refused.send(request('Hi'))).toEqual({ kind: 'retryable', code: 'ECONNREFUSED' });
    refused.close();
  });

  it('classifies wrong credentials as permanent (401, 20003)', async () => {
    sender.close();
    sender = createSmsSender(twilioConfig(fake.url, { authToken: 'wrong' }), {
      logger: capturedLogger().logger,
    });
    expect(await sender.send(request('Hi'))).toEqual({
      kind: 'permanent',
      code: '20003',
      reason: 'other',
    });
  });

  it('refuses a validity period outside 1..36000 seconds', async () => {
    await expect(sender.send({ ...request('Hi'), validitySeconds: 0 })).rejects.toThrow(RangeError);
  });

  it('never logs the body or the full number, whatever happens', async () => {
    const body = 'Private: your appointment about your anxiety';
    await sender.send(request(body));
    fake.inject({ kind: '429' });
    await sender.send(request(body));
    await sender.send({ ...request(body), to: '+15005550001' });
    fake.inject({ kind: 'reset_after_accept' });
    await sender.send(request(body));
    await sender.reconcile({ ourId: 'out-1', to: TO, body, since: new Date(0) });
    const output = logs();
    expect(output).toContain('sms send');
    expect(output).toContain('+44 77** ***123');
    for (const secret of [body, 'anxiety', TO, '+15005550001', '7700900123']) {
      expect(output).not.toContain(secret);
    }
  });
});
