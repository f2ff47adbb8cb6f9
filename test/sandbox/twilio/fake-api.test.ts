import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { FakeStore } from '../../../src/sandbox/twilio/store.js';
import { ACCOUNT_SID, AUTH_TOKEN, SERVICE_SID } from '../../channels/sms/fixtures.js';

let fake: TwilioFake;
const FROM = '+447700900100';
const TO = '+447700900123';

beforeEach(async () => {
  fake = await startTwilioFake({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    statusCallbacks: false,
  });
});
afterEach(() => fake.stop());

const auth = (token = AUTH_TOKEN) =>
  `Basic ${Buffer.from(`${ACCOUNT_SID}:${token}`).toString('base64')}`;
const messagesUrl = () => `${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`;

async function create(form: Record<string, string>, token?: string) {
  const response = await fetch(messagesUrl(), {
    method: 'POST',
    headers: { Authorization: auth(token), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, unknown>,
  };
}

async function get(pathAndQuery: string) {
  const response = await fetch(`${fake.url}${pathAndQuery}`, {
    headers: { Authorization: auth() },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const errorBody = (code: number, status = 400) => ({
  code,
  message: expect.any(String),
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

describe('POST Messages.json', () => {
  it('returns a Twilio-shaped Message resource', async () => {
    const { status, json } = await create({ To: TO, From: FROM, Body: 'Hello 👋' });
    expect(status).toBe(201);
    expect(json).toMatchObject({
      account_sid: ACCOUNT_SID,
      api_version: '2010-04-01',
      body: 'Hello 👋',
      direction: 'outbound-api',
      from: FROM,
      to: TO,
      status: 'queued',
      num_segments: '1',
      num_media: '0',
      price: null,
      error_code: null,
      messaging_service_sid: null,
      date_sent: null,
    });
    expect(json.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(json.date_created).toMatch(
      /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/,
    );
    expect(json.uri).toBe(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${json.sid}.json`);
  });

  it('accepts a Messaging Service send with no sender yet', async () => {
    const { status, json } = await create({ To: TO, MessagingServiceSid: SERVICE_SID, Body: 'x' });
    expect(status).toBe(201);
    expect(json).toMatchObject({
      status: 'accepted',
      from: null,
      messaging_service_sid: SERVICE_SID,
    });
  });

  it('counts segments: 161 GSM-7 characters are 2, 71 UCS-2 are 2', async () => {
    expect((await create({ To: TO, From: FROM, Body: 'a'.repeat(161) })).json.num_segments).toBe(
      '2',
    );
    expect((await create({ To: TO, From: FROM, Body: 'ŵ'.repeat(71) })).json.num_segments).toBe(
      '2',
    );
  });

  it.each([
    ['no To', { From: FROM, Body: 'x' }, 21604],
    ['neither From nor MessagingServiceSid', { To: TO, Body: 'x' }, 21603],
    ['a malformed MessagingServiceSid', { To: TO, MessagingServiceSid: 'MG1', Body: 'x' }, 21701],
    ['no Body', { To: TO, From: FROM }, 21602],
    ['a 1601-character Body', { To: TO, From: FROM, Body: 'x'.repeat(1601) }, 21617],
    ['an invalid To', { To: '+15005550001', From: FROM, Body: 'x' }, 21211],
    ['a To that is not E.164', { To: '07700900123', From: FROM, Body: 'x' }, 21211],
    ['an unreachable To', { To: '+15005550002', From: FROM, Body: 'x' }, 21612],
    ['a blocked region', { To: '+15005550003', From: FROM, Body: 'x' }, 21408],
    ['an unsubscribed To', { To: '+15005550004', From: FROM, Body: 'x' }, 21610],
    ['a non-mobile To', { To: '+15005550009', From: FROM, Body: 'x' }, 21614],
    ['a UK landline', { To: '+441632960000', From: FROM, Body: 'x' }, 21614],
    ['an invalid From', { To: TO, From: '+15005550001', Body: 'x' }, 21212],
    ['a From not owned', { To: TO, From: '+15005550007', Body: 'x' }, 21606],
    ['a full From queue', { To: TO, From: '+15005550008', Body: 'x' }, 21611],
  ])('refuses %s with 400 and code %i', async (_name, form, code) => {
    const { status, json } = await create(form as Record<string, string>);
    expect(status).toBe(400);
    expect(json).toEqual(errorBody(code));
  });

  it('accepts a 1600-character body', async () => {
    expect((await create({ To: TO, From: FROM, Body: 'x'.repeat(1600) })).status).toBe(201);
  });

  it('answers 401 with error 20003 for a wrong token', async () => {
    const { status, json, headers } = await create({ To: TO, From: FROM, Body: 'x' }, 'wrong');
    expect(status).toBe(401);
    expect(json).toEqual(errorBody(20003, 401));
    expect(headers.get('www-authenticate')).toContain('Basic');
    expect(fake.messages()).toHaveLength(0);
  });

  it('enforces owned numbers when configured', async () => {
    await fake.stop();
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: AUTH_TOKEN,
      numbers: [FROM],
    });
    expect((await create({ To: TO, From: '+447700900199', Body: 'x' })).json.code).toBe(21606);
    expect((await create({ To: TO, From: FROM, Body: 'x' })).status).toBe(201);
  });
});

describe('faults', () => {
  it('429 carries Twilio error 20429 and Retry-After, then clears', async () => {
    fake.inject({ kind: '429', retryAfterSeconds: 3 });
    const limited = await create({ To: TO, From: FROM, Body: 'x' });
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual(errorBody(20429, 429));
    expect(limited.headers.get('retry-after')).toBe('3');
    expect((await create({ To: TO, From: FROM, Body: 'x' })).status).toBe(201);
  });

  it('applies only to matching recipients', async () => {
    fake.inject({ kind: '500', match: { to: '+447700900999' } });
    expect((await create({ To: TO, From: FROM, Body: 'x' })).status).toBe(201);
    expect((await create({ To: '+447700900999', From: FROM, Body: 'x' })).status).toBe(500);
  });

  it('reset_after_accept creates the message and answers nothing', async () => {
    fake.inject({ kind: 'reset_after_accept' });
    await expect(create({ To: TO, From: FROM, Body: 'x' })).rejects.toThrow();
    expect(fake.messages()).toHaveLength(1);
    expect(fake.requests().at(-1)?.outcome).toBe('reset');
  });

  it('reset_before_accept creates nothing', async () => {
    fake.inject({ kind: 'reset_before_accept' });
    await expect(create({ To: TO, From: FROM, Body: 'x' })).rejects.toThrow();
    expect(fake.messages()).toHaveLength(0);
  });
});

describe('GET Messages', () => {
  it('fetches one message, and 404s (20404) an unknown sid', async () => {
    const { json } = await create({ To: TO, From: FROM, Body: 'x' });
    const base = `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages`;
    expect((await get(`${base}/${json.sid}.json`)).json.sid).toBe(json.sid);
    const missing = await get(`${base}/SM${'0'.repeat(32)}.json`);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual(errorBody(20404, 404));
  });

  it('lists newest first, filtered by To, in pages', async () => {
    for (const body of ['one', 'two', 'three']) await create({ To: TO, From: FROM, Body: body });
    await create({ To: '+447700900124', From: FROM, Body: 'other' });
    const first = await get(
      `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?To=${encodeURIComponent(TO)}&PageSize=2`,
    );
    expect(first.json).toMatchObject({ page: 0, page_size: 2, start: 0, previous_page_uri: null });
    const bodies = (first.json.messages as { body: string }[]).map((m) => m.body);
    expect(bodies).toEqual(['three', 'two']);
    const second = await get(first.json.next_page_uri as string);
    expect((second.json.messages as { body: string }[]).map((m) => m.body)).toEqual(['one']);
    expect(second.json.next_page_uri).toBeNull();
  });

  it('filters on DateSent, which is empty until a message is sent', async () => {
    const { json } = await create({ To: TO, From: FROM, Body: 'x' });
    const today = new Date().toISOString().slice(0, 10);
    const list = (q: string) => get(`/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json?${q}`);
    expect(((await list(`DateSent%3E=${today}`)).json.messages as unknown[]).length).toBe(0);
    await fake.emitStatus(json.sid as string, 'sent');
    expect(((await list(`DateSent%3E=${today}`)).json.messages as unknown[]).length).toBe(1);
    expect(((await list(`DateSent%3C=2000-01-01`)).json.messages as unknown[]).length).toBe(0);
  });
});

describe('the store behind the list (indexed by To, as Twilio lists by number)', () => {
  const message = (i: number, to: string, from: string | null) => ({
    sid: `SM${String(i).padStart(32, '0')}`,
    accountSid: ACCOUNT_SID,
    direction: 'outbound-api' as const,
    to,
    from,
    messagingServiceSid: from === null ? SERVICE_SID : null,
    body: `m${i}`,
    numSegments: 1,
    numMedia: 0,
    status: 'queued' as const,
    statusCallback: null,
    validityPeriod: null,
  });

  it("among 5,000 others: one number's messages, newest first; From filters, even one set later", () => {
    const store = new FakeStore(() => new Date());
    for (let i = 0; i < 5000; i++)
      store.add(message(i, `+4477008${String(i % 1000).padStart(5, '0')}`, FROM));
    const late = store.add(message(5000, TO, null));
    store.add(message(5001, TO, FROM));
    store.add(message(5002, TO, '+447700900199'));
    expect(store.filtered(TO, null).map((m) => m.body)).toEqual(['m5002', 'm5001', 'm5000']);
    expect(store.filtered(TO, FROM).map((m) => m.body)).toEqual(['m5001']);
    // A Messaging Service picks the sender when the message is queued.
    late.from = FROM;
    expect(store.filtered(TO, FROM).map((m) => m.body)).toEqual(['m5001', 'm5000']);
    expect(store.filtered(null, '+447700900199').map((m) => m.body)).toEqual(['m5002']);
    expect(store.filtered('+447700900999', null)).toEqual([]);
    expect(store.filtered(null, null)).toHaveLength(5003);
  });
});

describe('messagesSince (a watcher reads only what is new)', () => {
  it('returns the REST API messages after the offset, oldest first, and where to go on from', async () => {
    const first = fake.messagesSince(0);
    expect(first).toEqual({ messages: [], next: 0 });
    expect((await create({ To: TO, From: FROM, Body: 'one' })).status).toBe(201);
    // An inbound text counts towards the offset but is not a REST API message.
    // (Nobody listens on port 9: the webhook fails, the inbound message is still held.)
    await fake.sendInbound({ from: TO, to: FROM, body: 'Yes', signUrl: 'http://127.0.0.1:9/sms' });
    expect((await create({ To: TO, From: FROM, Body: 'two' })).status).toBe(201);
    const all = fake.messagesSince(first.next);
    expect(all.messages.map((m) => m.body)).toEqual(['one', 'two']);
    expect(all.next).toBe(3);
    expect((await create({ To: TO, From: FROM, Body: 'three' })).status).toBe(201);
    const more = fake.messagesSince(all.next);
    expect(more.messages.map((m) => m.body)).toEqual(['three']);
    expect(more.next).toBe(4);
    expect(fake.messagesSince(more.next)).toEqual({ messages: [], next: 4 });
    // Snapshots, as messages() gives: the caller cannot move the fake's own record.
    (more.messages[0] as { status: string }).status = 'failed';
    expect(fake.messages().at(-1)?.status).toBe('queued');
  });
});

describe('connections', () => {
  it('keeps an idle kept-alive connection open past Node’s 5 s, as a real API does', async () => {
    const { Agent, get } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const call = () =>
      new Promise<boolean>((resolve, reject) => {
        const req = get(`${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`, { agent });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(req.reusedSocket));
        });
        req.on('error', reject);
      });
    expect(await call()).toBe(false);
    await new Promise((r) => setTimeout(r, 5_500));
    expect(await call()).toBe(true);
    agent.destroy();
  }, 15_000);
});
