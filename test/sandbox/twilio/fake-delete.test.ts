import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTwilioClient, removeMessage } from '../../../src/channels/sms/twilio-client.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import {
  ACCOUNT_SID,
  AUTH_TOKEN,
  startReceiver,
  twilioConfig,
} from '../../channels/sms/fixtures.js';

// Checklist 88: the local Twilio deletes a Message resource as Twilio does (DELETE
// /Messages/{Sid}.json): only once Twilio is done with it.

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
const base = () => `${fake.url}/2010-04-01/Accounts/${ACCOUNT_SID}`;

async function create(): Promise<string> {
  const response = await fetch(`${base()}/Messages.json`, {
    method: 'POST',
    headers: { Authorization: auth(), 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ To: TO, From: FROM, Body: 'See you at 10' }).toString(),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { sid: string }).sid;
}

async function call(method: 'DELETE' | 'GET', path: string, token?: string) {
  const response = await fetch(`${base()}${path}`, {
    method,
    headers: { Authorization: auth(token) },
  });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    text,
    json: text ? (JSON.parse(text) as Record<string, unknown>) : null,
  };
}

const twilioError = (code: number, status: number) => ({
  code,
  message: expect.any(String),
  more_info: `https://www.twilio.com/docs/errors/${code}`,
  status,
});

describe('DELETE Messages/{Sid}.json', () => {
  it('refuses a message Twilio is not done with (20009), then deletes it once delivered: 204, no body', async () => {
    const sid = await create();
    for (const status of ['queued', 'sending', 'sent'] as const) {
      if (status !== 'queued') await fake.emitStatus(sid, status);
      const refused = await call('DELETE', `/Messages/${sid}.json`);
      expect(refused.status).toBe(409);
      expect(refused.json).toEqual(twilioError(20009, 409));
      expect(refused.json?.message).toBe('Cannot delete this resource before it is complete');
      expect((await call('GET', `/Messages/${sid}.json`)).status).toBe(200);
    }
    await fake.emitStatus(sid, 'delivered');
    const deleted = await call('DELETE', `/Messages/${sid}.json`);
    expect(deleted).toMatchObject({ status: 204, text: '', type: null });
  });

  it('once deleted: fetch answers 404, the list and the fake omit it, and a second DELETE is 404 (20404)', async () => {
    const gone = await create();
    const kept = await create();
    await fake.emitStatus(gone, 'failed', 30003);
    expect((await call('DELETE', `/Messages/${gone}.json`)).status).toBe(204);
    const fetched = await call('GET', `/Messages/${gone}.json`);
    expect(fetched.status).toBe(404);
    expect(fetched.json).toEqual(twilioError(20404, 404));
    const list = await call('GET', `/Messages.json?To=${encodeURIComponent(TO)}`);
    const sids = ((list.json?.messages ?? []) as { sid: string }[]).map((m) => m.sid);
    expect(sids).toEqual([kept]);
    expect((await call('GET', '/Messages.json')).json?.messages).toHaveLength(1);
    expect(fake.allMessages().map((m) => m.sid)).toEqual([kept]);
    const again = await call('DELETE', `/Messages/${gone}.json`);
    expect(again.status).toBe(404);
    expect(again.json).toEqual(twilioError(20404, 404));
    const unknown = await call('DELETE', `/Messages/SM${'0'.repeat(32)}.json`);
    expect(unknown.json).toEqual(twilioError(20404, 404));
  });

  it('deletes undelivered and received (inbound) messages too', async () => {
    const receiver = await startReceiver();
    try {
      const undelivered = await create();
      await fake.emitStatus(undelivered, 'undelivered', 30005);
      const inbound = await fake.sendInbound({
        from: TO,
        to: FROM,
        body: 'yes please',
        signUrl: receiver.url,
      });
      expect(fake.allMessages().find((m) => m.sid === inbound.messageSid)?.status).toBe('received');
      expect((await call('DELETE', `/Messages/${undelivered}.json`)).status).toBe(204);
      expect((await call('DELETE', `/Messages/${inbound.messageSid}.json`)).status).toBe(204);
      expect(fake.allMessages()).toEqual([]);
    } finally {
      await receiver.stop();
    }
  });

  it('needs the account credentials, like its other routes', async () => {
    const sid = await create();
    await fake.emitStatus(sid, 'delivered');
    const denied = await call('DELETE', `/Messages/${sid}.json`, 'wrong-token');
    expect(denied.status).toBe(401);
    expect(denied.json).toEqual(twilioError(20003, 401));
    expect(fake.allMessages()).toHaveLength(1);
  });

  it('the real SDK: remove() resolves true; 20009 and 20404 come back as RestExceptions', async () => {
    const sdk = createTwilioClient(twilioConfig(fake.url), 2000);
    const client = sdk.api;
    const sid = await create();
    await expect(client.messages(sid).remove()).rejects.toMatchObject({
      status: 409,
      code: 20009,
    });
    await fake.emitStatus(sid, 'delivered');
    await expect(client.messages(sid).remove()).resolves.toBe(true);
    await expect(client.messages(sid).fetch()).rejects.toMatchObject({ status: 404, code: 20404 });
    await expect(client.messages(sid).remove()).rejects.toMatchObject({ status: 404, code: 20404 });
    sdk.close();
  });

  it("removeMessage (the sender's client): deleted, in_flight, gone, and retry on a 503 or a dead host", async () => {
    const client = createTwilioClient(twilioConfig(fake.url), 2000);
    try {
      const sid = await create();
      expect(await removeMessage(client, sid)).toEqual({ kind: 'in_flight' });
      await fake.emitStatus(sid, 'delivered');
      fake.inject({ kind: '503', match: { op: 'delete' } });
      expect(await removeMessage(client, sid)).toEqual({ kind: 'retry', code: '20503' });
      fake.inject({ kind: '429', match: { op: 'delete' }, retryAfterSeconds: 7 });
      expect(await removeMessage(client, sid)).toEqual({
        kind: 'retry',
        code: '20429',
        retryAfterMs: 7000,
      });
      expect(await removeMessage(client, sid)).toEqual({ kind: 'deleted' });
      expect(await removeMessage(client, sid)).toEqual({ kind: 'gone' });
      expect(
        fake
          .requests()
          .filter((r) => r.op === 'delete')
          .map((r) => r.outcome),
      ).toEqual([409, 503, 429, 204, 404]);
    } finally {
      client.close();
    }
    const dead = createTwilioClient(twilioConfig('http://127.0.0.1:9'), 2000);
    try {
      expect(await removeMessage(dead, `SM${'1'.repeat(32)}`)).toEqual({
        kind: 'retry',
        code: 'ECONNREFUSED',
      });
    } finally {
      dead.close();
    }
  });
});
