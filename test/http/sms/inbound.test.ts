import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { twilioSignature } from '../../../src/sandbox/twilio/index.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import {
  count,
  encode,
  inboundForm,
  newSid,
  PUBLIC_URL,
  smsApp,
  storedFor,
  TOKEN,
} from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const PATH = '/sms/inbound';

describe('POST /sms/inbound: authenticity and parsing (checklist 1-9, 11)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger, output } = capturedLogger('trace');
  const phones: string[] = [];
  const bodies: string[] = [];
  let t: ReturnType<typeof smsApp>;
  beforeAll(() => {
    t = smsApp(getDb(), logger);
  });
  afterAll(async () => t.app.close());

  const fresh = (body = 'hello there') => {
    const phone = uniquePhone();
    phones.push(phone);
    bodies.push(body);
    return { phone, params: inboundForm(phone, body) };
  };

  it('1: a valid signed form: 200 empty TwiML, one message stored, one job enqueued', async () => {
    const { phone, params } = fresh('Hello from a real phone');
    const res = await t.post(PATH, params);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/xml/);
    expect(res.body).toContain('<Response/>');
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
    const { rows } = await getDb().query<{ id: string; body: string; segments: number }>(
      'SELECT id, body, segments FROM messages WHERE provider_sid = $1',
      [params.MessageSid],
    );
    expect(rows[0]?.body).toBe('Hello from a real phone');
    expect(t.enqueued.filter((id) => id === rows[0]?.id)).toHaveLength(1);
  });

  it('2: a forged signature (wrong token, or one character changed): 403, generic, nothing stored', async () => {
    for (const signature of ['wrong-token', 'flip']) {
      const { phone, params } = fresh();
      const before = t.enqueued.length;
      const good = twilioSignature(TOKEN, `${PUBLIC_URL}${PATH}`, params);
      const res =
        signature === 'wrong-token'
          ? await t.post(PATH, params, { token: 'not-the-token-0123456789' })
          : await t.post(PATH, params, {
              signature: `${good[0] === 'A' ? 'B' : 'A'}${good.slice(1)}`,
            });
      expect(res.statusCode).toBe(403);
      expect(res.body).toBe('Forbidden');
      expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
      expect(t.enqueued.length).toBe(before);
    }
  });

  it('3: no X-Twilio-Signature: 400 and nothing stored', async () => {
    const { phone, params } = fresh();
    const res = await t.post(PATH, params, { signature: null });
    expect(res.statusCode).toBe(400);
    expect(res.body).toBe('Bad Request');
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('4: a parameter changed or added after signing: 403 and nothing stored', async () => {
    for (const change of [{ Body: 'changed' }, { To: '+447700900999' }, { Extra: 'x' }]) {
      const { phone, params } = fresh();
      const res = await t.post(PATH, params, { sentParams: { ...params, ...change } });
      expect(res.statusCode).toBe(403);
      expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
    }
    const { phone, params } = fresh();
    const other = uniquePhone();
    phones.push(other);
    const res = await t.post(PATH, params, { sentParams: { ...params, From: other } });
    expect(res.statusCode).toBe(403);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
    expect(await storedFor(getDb(), other)).toEqual({ messages: 0, participants: 0 });
  });

  it('5: an unknown future parameter, signed by Twilio, is accepted', async () => {
    const phone = uniquePhone();
    phones.push(phone);
    const params = inboundForm(phone, 'hi', { Foo: 'bar', AddOns: '{"status":"successful"}' });
    const res = await t.post(PATH, params);
    expect(res.statusCode).toBe(200);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 1, participants: 1 });
  });

  it('6: behind a proxy (internal host, X-Forwarded-Proto) the configured public URL is used; :443 too', async () => {
    const { phone, params } = fresh();
    const res = await t.post(PATH, params, {
      headers: { host: 'internal:8080', 'x-forwarded-proto': 'https' },
    });
    expect(res.statusCode).toBe(200);
    const second = fresh();
    const withPort = await t.post(PATH, second.params, {
      signUrl: 'https://linkline.example.org:443/sms/inbound',
      headers: { host: 'internal:8080' },
    });
    expect(withPort.statusCode).toBe(200);
    expect((await storedFor(getDb(), phone)).messages).toBe(1);
    expect((await storedFor(getDb(), second.phone)).messages).toBe(1);
  });

  it('7: a signature valid for evil.example with Host evil.example: 403', async () => {
    const { phone, params } = fresh();
    const res = await t.post(PATH, params, {
      signUrl: `https://evil.example${PATH}`,
      headers: { host: 'evil.example', 'x-forwarded-host': 'evil.example' },
    });
    expect(res.statusCode).toBe(403);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('8: an awkward body validates and is stored byte for byte', async () => {
    const awkward = `  leading and trailing  \n+ & % = ? # 😀 Ŵŷ ŵ â ê î ô û Llŷr's café\r\n${'x'.repeat(1500)} `;
    const { phone, params } = fresh(awkward);
    const res = await t.post(PATH, params);
    expect(res.statusCode).toBe(200);
    const { rows } = await getDb().query<{ body: string }>(
      'SELECT body FROM messages WHERE address = $1',
      [phone],
    );
    expect(rows[0]?.body).toBe(awkward);
    expect(Buffer.from(rows[0]!.body, 'utf8').equals(Buffer.from(awkward, 'utf8'))).toBe(true);
  });

  it('8b: a charset parameter on the content type is fine', async () => {
    const { phone, params } = fresh();
    const res = await t.post(PATH, params, {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
    });
    expect(res.statusCode).toBe(200);
    expect((await storedFor(getDb(), phone)).messages).toBe(1);
  });

  it('9: over 64 KiB: 413; JSON, text or no form: 415; nothing stored', async () => {
    const { phone, params } = fresh('y'.repeat(70_000));
    const big = await t.post(PATH, params);
    expect(big.statusCode).toBe(413);
    expect(big.body).toBe('Payload Too Large');
    for (const type of ['application/json', 'text/plain', 'multipart/form-data; boundary=x']) {
      const res = await t.app.inject({
        method: 'POST',
        url: PATH,
        payload: type === 'application/json' ? JSON.stringify(params) : encode(params),
        headers: { 'content-type': type, 'x-twilio-signature': 'x' },
      });
      expect(res.statusCode).toBe(415);
      expect(res.body).toBe('Unsupported Media Type');
    }
    const bare = await t.app.inject({ method: 'POST', url: PATH, payload: encode(params) });
    expect(bare.statusCode).toBe(415);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('a parameter repeated is refused (400) before anything is stored', async () => {
    const { phone, params } = fresh();
    const res = await t.app.inject({
      method: 'POST',
      url: PATH,
      payload: `${encode(params)}&Body=again`,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'x' },
    });
    expect(res.statusCode).toBe(400);
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('a signed but malformed form: 400 with field errors, nothing stored', async () => {
    const { phone, params } = fresh();
    const res = await t.post(PATH, { ...params, MessageSid: 'nope', NumMedia: 'lots' });
    expect(res.statusCode).toBe(400);
    const fields = (res.json() as { errors: { field: string }[] }).errors.map((e) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['MessageSid', 'NumMedia']));
    expect(await storedFor(getDb(), phone)).toEqual({ messages: 0, participants: 0 });
  });

  it('11: token rotation: after promoting the new token, the old one gets 403', async () => {
    let tokens = ['old-token-0123456789abcdef', 'new-token-0123456789abcdef'];
    const rotating = smsApp(getDb(), logger, { authTokens: () => tokens });
    try {
      const a = fresh();
      expect(
        (await rotating.post(PATH, a.params, { token: 'new-token-0123456789abcdef' })).statusCode,
      ).toBe(200);
      tokens = ['new-token-0123456789abcdef'];
      const b = fresh();
      expect(
        (await rotating.post(PATH, b.params, { token: 'old-token-0123456789abcdef' })).statusCode,
      ).toBe(403);
      const c = fresh();
      expect(
        (await rotating.post(PATH, c.params, { token: 'new-token-0123456789abcdef' })).statusCode,
      ).toBe(200);
      expect((await storedFor(getDb(), b.phone)).messages).toBe(0);
    } finally {
      await rotating.app.close();
    }
  });

  it('a sender that is not a phone number is recorded without a participant and not queued', async () => {
    const params = inboundForm('Vodafone', 'Your bill is ready');
    const before = t.enqueued.length;
    const res = await t.post(PATH, params);
    expect(res.statusCode).toBe(200);
    expect(await count(getDb(), 'messages WHERE provider_sid = $1', [params.MessageSid])).toBe(1);
    expect(await count(getDb(), 'participants WHERE phone = $1', ['Vodafone'])).toBe(0);
    expect(t.enqueued.length).toBe(before);
  });

  it('a media message is stored with its media count', async () => {
    const phone = uniquePhone();
    phones.push(phone);
    const params = inboundForm(phone, '', {}, newSid('MM'));
    Object.assign(params, {
      NumMedia: '1',
      MediaUrl0: 'https://api.twilio.com/media/1',
      MediaContentType0: 'image/jpeg',
    });
    expect((await t.post(PATH, params)).statusCode).toBe(200);
    const { rows } = await getDb().query<{ num_media: number }>(
      'SELECT num_media FROM messages WHERE address = $1',
      [phone],
    );
    expect(rows[0]?.num_media).toBe(1);
  });

  it('90: the logs name no body and no full phone number, only masked ones', () => {
    const logs = output();
    if (process.env.SHOW_LOGS) console.log(logs);
    expect(logs).toContain('sms inbound');
    expect(logs).toContain('twilio webhook refused');
    for (const phone of phones) expect(logs).not.toContain(phone);
    for (const phone of phones) expect(logs).not.toContain(phone.slice(1));
    for (const body of bodies) expect(logs).not.toContain(body.slice(0, 12));
    expect(logs).not.toContain(TOKEN);
    expect(logs).toMatch(/\+44 77\*\* \*\*\*\d{3}/);
  });
});
