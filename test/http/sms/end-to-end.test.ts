import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import { twilioGateway } from '../../../src/channels/sms/gateway.js';
import { createSmsSender, type SmsSender } from '../../../src/channels/sms/sender.js';
import { buildServer } from '../../../src/http/server.js';
import { registerSmsRoutes } from '../../../src/http/sms/routes.js';
import { defaultRules } from '../../../src/runner/rules/index.js';
import { createRunner } from '../../../src/runner/runner.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../../src/scheduler/queues.js';
import { createSink } from '../../../src/scheduler/sink.js';
import { startWorkers } from '../../../src/scheduler/workers.js';
import { getMessage, insertOutbound } from '../../../src/store/repos/messages.js';
import { getParticipantByPhone } from '../../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { drivers, sleep, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { waitFor } from '../../support/pipeline.js';
import { ACCOUNT_SID, OUR_NUMBER, PUBLIC_URL, TOKEN } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('SMS end to end: signed webhooks in, the real SDK out to the local Twilio', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger, output } = capturedLogger('debug');
  let fake: TwilioFake;
  let sender: SmsSender;
  let redis: Redis;
  let queues: Queues;
  let workers: { close: () => Promise<void> };
  let app: ReturnType<typeof buildServer>;
  let local = '';

  beforeAll(async () => {
    const db = getDb();
    const catalog = await loadCheckedCatalog('flows', 'locales');
    redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
    const prefix = `lltest-${randomBytes(4).toString('hex')}`;
    queues = createQueues(redis, prefix);
    app = buildServer({ logger, checks: {} });
    registerSmsRoutes(app, {
      db,
      publicUrl: PUBLIC_URL,
      authTokens: [TOKEN],
      enqueueInbound: async (messageId) => {
        await queues.inbound.add('inbound', { messageId }, { jobId: `in-${messageId}` });
      },
      logger,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    local = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    fake = await startTwilioFake({
      accountSid: ACCOUNT_SID,
      authToken: TOKEN,
      numbers: [OUR_NUMBER],
      webhookUrl: `${PUBLIC_URL}/sms/inbound`,
      webhookPostUrl: `${local}/sms/inbound`,
      routeCallback: (url) => url.replace(PUBLIC_URL, local),
    });
    sender = createSmsSender(
      {
        accountSid: ACCOUNT_SID,
        authToken: TOKEN,
        from: OUR_NUMBER,
        messagingServiceSid: null,
        apiUrl: fake.url,
      },
      { logger },
    );
    const gateway = twilioGateway(sender, {
      publicUrl: PUBLIC_URL,
      validitySeconds: 3600,
      bodyOf: async (id) => (await getMessage(db, id))?.body ?? null,
    });
    const now = () => new Date();
    const sink = createSink(db, queues, logger, now);
    const common = { locales: catalog.locales, defaultLang: 'en', logger, now };
    const runner = createRunner({
      db,
      flows: catalog.flows,
      sink,
      ...common,
      rules: defaultRules({ ...common, flows: catalog.flows }),
    });
    workers = await startWorkers({ db, redis, queues, prefix, runner, gateway, logger });
  });

  afterAll(async () => {
    await workers.close();
    await Promise.all(Object.values(queues).map((q) => q.obliterate({ force: true })));
    await closeQueues(queues);
    redis.disconnect();
    sender.close();
    await fake.stop();
    await app.close();
  });

  const received = (phone: string) =>
    fake
      .messages()
      .filter((m) => m.to === phone)
      .map((m) => m.body);

  async function text(phone: string, body: string, expectTotal: number) {
    const delivery = await fake.sendInbound({ from: phone, to: OUR_NUMBER, body });
    expect(delivery.status).toBe(200);
    await waitFor(() => received(phone).length >= expectTotal);
    return received(phone).at(-1);
  }

  it('an unknown number texts hello and completes the intake over signed webhooks', async () => {
    const phone = uniquePhone();
    await text(phone, 'hello', 1);
    await text(phone, 'yes', 2);
    await text(phone, 'Ann', 3);
    await text(phone, '1', 4);
    await text(phone, 'yes', 5);
    await text(phone, 'none of these', 6);
    await text(phone, 'afternoon', 7);
    await text(phone, '2', 8);
    await text(phone, '4', 9);
    await text(phone, '70', 10);
    await text(phone, 'M16 0RA', 11);
    await text(phone, 'no', 12);
    expect(received(phone).at(-1)).toMatch(/\nThank you, Ann\. A link worker will contact you/);
    const who = await getParticipantByPhone(getDb(), phone);
    expect(who).toMatchObject({
      consent: 'given',
      primaryReason: 'loneliness_isolation',
      bestTime: 'afternoon',
    });
  });

  it('STOP mid-intake ends it and nothing more is sent, not even a reminder in flight; START does not revive reminders', async () => {
    const phone = uniquePhone();
    expect(await text(phone, 'hello', 1)).toMatch(/^Hi, this is Linkline/);
    expect(await text(phone, 'yes', 2)).toMatch(/What would you like us to call you/);
    expect(await text(phone, 'Ann', 3)).toMatch(/What would you like help with/);
    const who = (await getParticipantByPhone(getDb(), phone))!;
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'checkin',
      participantId: who.id,
      dueAt: new Date(Date.now() + 86_400_000),
    });
    await queues.outbound.pause();
    const { message: inFlight } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: who.id,
      address: phone,
      body: 'A reminder already in flight',
      kind: 'reminder',
    });
    await queues.outbound.add('send', { messageId: inFlight.id }, { jobId: `send-${inFlight.id}` });

    const stop = await fake.sendInbound({ from: phone, to: OUR_NUMBER, body: 'STOP' });
    expect(stop.keyword).toBe('stop');
    await waitFor(async () => (await getParticipantByPhone(getDb(), phone))?.optedOut === true);
    await queues.outbound.resume();
    await waitFor(async () => (await getMessage(getDb(), inFlight.id))?.status === 'skipped');
    await fake.sendInbound({ from: phone, to: OUR_NUMBER, body: '1' });
    await sleep(500);
    expect(received(phone)).toHaveLength(3);

    expect(await text(phone, 'START', 4)).toMatch(/^Welcome back to Linkline/);
    const { rows } = await getDb().query<{ state: string }>(
      'SELECT state FROM scheduled_items WHERE id = $1',
      [item.id],
    );
    expect(rows[0]?.state).toBe('cancelled');
    // Status callbacks from the fake came back signed and moved every sent message on.
    await fake.settled();
    await waitFor(async () => {
      const statuses = await getDb().query<{ status: string }>(
        "SELECT status FROM messages WHERE participant_id = $1 AND direction = 'out' AND status <> 'skipped'",
        [who.id],
      );
      return statuses.rows.length === 4 && statuses.rows.every((r) => r.status === 'delivered');
    });
  });

  it('the same inbound POSTed 10 times concurrently: one stored message, one reply', async () => {
    const phone = uniquePhone();
    const first = await fake.sendInbound({ from: phone, to: OUR_NUMBER, body: 'hello' });
    await Promise.all(
      Array.from({ length: 9 }, () =>
        fake.sendInbound({
          from: phone,
          to: OUR_NUMBER,
          body: 'hello',
          messageSid: first.messageSid,
        }),
      ),
    );
    await waitFor(() => received(phone).length === 1);
    await sleep(500);
    expect(received(phone)).toHaveLength(1);
    const { rows } = await getDb().query<{ n: number }>(
      "SELECT count(*)::int AS n FROM messages WHERE address = $1 AND direction = 'in'",
      [phone],
    );
    expect(rows[0]?.n).toBe(1);
  });

  it('a landline texting in gets no SMS back: the number is flagged', async () => {
    const landline = '+441632960777';
    await fake.sendInbound({ from: landline, to: OUR_NUMBER, body: 'hello' });
    await waitFor(
      async () => (await getParticipantByPhone(getDb(), landline))?.numberStatus === 'landline',
    );
    expect(received(landline)).toEqual([]);
  });

  it('logs carry no message body and no full number', () => {
    const logs = output();
    expect(logs).toContain('sms inbound');
    expect(logs).toContain('sms send');
    expect(logs).not.toMatch(/\+4477009\d{5}/);
    expect(logs).not.toMatch(/4477009\d{5}/);
    expect(logs).not.toContain('+441632960777');
    expect(logs).not.toContain('A reminder already in flight');
    expect(logs).not.toContain('What would you like');
  });
});
