import { WebClient } from '@slack/web-api';
import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobEffects } from '../../../src/domain/booking/changes.js';
import { noEffects } from '../../../src/runner/effects.js';
import {
  ClockBackwards,
  createSandboxClock,
  DEMO_PHONES,
  seedDemo,
} from '../../../src/sandbox/page/index.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { reconcile } from '../../../src/scheduler/reconciler.js';
import { createSink } from '../../../src/scheduler/sink.js';
import { waitFor } from '../../support/pipeline.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';
import { startSlackReceiver } from '../../support/slack-receiver.js';

type Sms = { direction: 'in' | 'out'; body: string; status: string };

describe('the sandbox clock', () => {
  it('runs ahead of real time by what it was moved, and never goes back', () => {
    let real = Date.parse('2026-12-07T09:00:00Z');
    const clock = createSandboxClock(() => real);
    clock.moveTo(new Date('2026-12-08T10:00:00Z'));
    expect(clock.offsetMs()).toBe(25 * 3600_000);
    real += 60_000;
    expect(clock.now().toISOString()).toBe('2026-12-08T10:01:00.000Z');
    expect(() => clock.moveTo(new Date('2026-12-08T09:00:00Z'))).toThrow(ClockBackwards);
    expect(clock.offsetMs()).toBe(25 * 3600_000);
    clock.advance(30 * 60_000);
    expect(clock.offsetMs()).toBe(25.5 * 3600_000);
    expect(() => clock.advance(-1)).toThrow(ClockBackwards);
  });
});

describe('sandbox mode: the demo seed, the page and its /sandbox API', () => {
  let s: RunningService;
  const get = async (url: string) => s.running.app.inject({ method: 'GET', url });
  const post = async (url: string, payload: unknown) =>
    s.running.app.inject({ method: 'POST', url, payload: payload as Record<string, unknown> });
  const sms = async (phone: string): Promise<Sms[]> =>
    (await get(`/sandbox/sms?phone=${encodeURIComponent(phone)}`)).json().messages;

  beforeAll(async () => {
    s = await startService();
  });
  afterAll(async () => s?.stop());

  it('seeds three activities meeting this week, two link workers and a lead without Slack, once', async () => {
    const { rows } = await s.service.db.query<{
      key: string;
      lead_slack_user: string | null;
      lead_phone: string | null;
      first: Date;
    }>(
      `SELECT a.key, a.lead_slack_user, a.lead_phone, min(s.starts_at) AS first
       FROM activities a JOIN sessions s ON s.activity_id = a.id GROUP BY a.id ORDER BY a.key`,
    );
    expect(rows.map((r) => r.key)).toEqual([
      'art-for-wellbeing',
      'carers-coffee',
      'walking-football',
    ]);
    const weekAhead = Date.now() + 7 * 86_400_000;
    for (const r of rows) expect(r.first.getTime()).toBeLessThan(weekAhead);
    expect(rows.filter((r) => r.lead_slack_user === null).map((r) => r.lead_phone)).toEqual([
      DEMO_PHONES.lead,
      DEMO_PHONES.lead,
    ]);
    const workers = await s.service.db.query('SELECT slack_user_id FROM link_workers');
    expect(workers.rowCount).toBe(2);

    const sink = createSink(s.service.db, s.service.queues, s.logs.logger);
    const again = await seedDemo(s.service.db, {
      now: new Date(),
      tz: 'Europe/London',
      afterCommit: [(c) => sink({ ...noEffects(), ...jobEffects(c) })],
    });
    expect(again.activities.created).toBe(0);
    expect(again.sessions.created).toBe(0);
    expect(again.participants.created).toBe(0);
    expect(again.bookings.booked).toBe(0);
    const count = await s.service.db.query<{ n: number }>(
      'SELECT (SELECT count(*) FROM sessions)::int + (SELECT count(*) FROM bookings)::int AS n',
    );
    expect(count.rows[0]?.n).toBe(18 + 6);
  });

  it('serves the page and its assets, and nothing else under /sandbox/assets', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/sandbox/assets/app.js');
    expect((await get('/sandbox/assets/app.js')).headers['content-type']).toMatch(/javascript/);
    expect((await get('/sandbox/assets/..%2Fseed.ts')).statusCode).toBe(404);
  });

  it('refuses bad input with field errors', async () => {
    const bad = await post('/sandbox/sms', { from: '07700 900111', body: ' ' });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((e: { path: string }) => e.path)
        .sort(),
    ).toEqual(['body', 'from']);
    expect((await post('/sandbox/clock', { by: '1h', to: '2026-12-07T10:00' })).statusCode).toBe(
      400,
    );
    expect((await post('/sandbox/clock', { by: '-1h' })).statusCode).toBe(400);
    expect((await post('/sandbox/slack/click', { user: 'U0LWAMY001' })).statusCode).toBe(400);
    expect((await get('/sandbox/sms?phone=447700900111')).statusCode).toBe(400);
  });

  it('texts Linkline as a new person and shows the reply with its delivery status', async () => {
    const phone = DEMO_PHONES.newcomers[1];
    const sent = await post('/sandbox/sms', { from: phone, body: 'hello' });
    expect(sent.json()).toMatchObject({ webhookStatus: 200 });
    await waitFor(async () =>
      (await sms(phone)).some((m) => m.direction === 'out' && m.status === 'delivered'),
    );
    const [first, reply] = await sms(phone);
    expect(first).toMatchObject({ direction: 'in', body: 'hello' });
    expect(reply?.body).toMatch(/this is Linkline/);
  });

  it('moves the clock forward only, and what fell due runs now: the intake nudge a day later', async () => {
    const phone = DEMO_PHONES.newcomers[1];
    const before = (await get('/sandbox/clock')).json();
    const hour = (await post('/sandbox/clock', { by: '1h' })).json();
    expect(hour.offsetMs).toBe(3600_000);
    const back = await post('/sandbox/clock', { to: before.local });
    expect(back.statusCode).toBe(409);
    expect(await sms(phone)).toHaveLength(2);
    const day = (await post('/sandbox/clock', { by: '1d' })).json();
    expect(day.due).toBeGreaterThanOrEqual(1);
    expect(
      DateTime.fromISO(day.now).diff(DateTime.fromISO(before.now), 'hours').hours,
    ).toBeGreaterThan(24);
    await waitFor(async () => (await sms(phone)).length === 3);
    expect((await sms(phone))[2]?.body).toMatch(/^Hi again from Linkline/);
  });

  it('moving the clock promotes a timer whose delayed job was computed from the old time', async () => {
    const phone = DEMO_PHONES.newcomers[2];
    await post('/sandbox/sms', { from: phone, body: 'hello' });
    await waitFor(async () => (await sms(phone)).length === 2);
    // The consent nudge is due a day later: move to ten minutes before it.
    await post('/sandbox/clock', { by: '1430m' });
    const clock = s.sandbox!.clock;
    const { service } = s;
    // The every-minute reconciler gives it a delayed job (ten minutes, by the sandbox clock).
    await reconcile(
      service.db,
      service.redis,
      service.queues,
      service.config.queuePrefix,
      clock.now(),
      s.logs.logger,
    );
    const { rows } = await service.db.query<{ job_id: string }>(
      `SELECT s.job_id FROM scheduled_items s JOIN participants p ON p.id = s.participant_id
       WHERE p.phone = $1 AND s.kind = 'flow_timeout' AND s.state = 'enqueued'`,
      [phone],
    );
    const job = await service.queues.timers.getJob(rows[0]!.job_id);
    expect(await job?.isDelayed()).toBe(true);
    expect(await sms(phone)).toHaveLength(2);
    const moved = (await post('/sandbox/clock', { by: '15m' })).json();
    expect(moved.due).toBeGreaterThanOrEqual(1);
    // Promoted: it runs now, not ten real minutes from now.
    await waitFor(async () => (await sms(phone)).length === 3);
    expect((await sms(phone))[2]?.body).toMatch(/^Hi again from Linkline/);
  });

  it('shows the Slack fake as Slack would; clicks and thread replies reach the app signed', async () => {
    const fake = s.sandbox!.slackFake!;
    const app = await startSlackReceiver(fake.signingSecret);
    try {
      fake.setAppUrl(app.url);
      // A channel of the test's own, whatever channels the service's Slack fake was given.
      const amy = fake.users().find((u) => !u.isBot)!.id;
      fake.addChannel({
        id: 'C0SBXTEST1',
        name: 'sandbox-test',
        isPrivate: false,
        members: [amy, fake.bot.userId],
      });
      const web = new WebClient(fake.botToken, { slackApiUrl: fake.apiUrl });
      const posted = await web.chat.postMessage({
        channel: 'C0SBXTEST1',
        text: 'P-7K3Q asked to talk to someone',
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: '*P-7K3Q* asked to talk to someone' } },
          {
            type: 'actions',
            elements: [
              {
                type: 'button',
                action_id: 'claim',
                text: { type: 'plain_text', text: 'Claim' },
                value: 'h1',
              },
              {
                type: 'button',
                action_id: 'close',
                text: { type: 'plain_text', text: 'Close' },
                value: 'h1',
              },
            ],
          },
        ],
      });
      const ts = posted.ts!;
      const pane = (await get('/sandbox/slack')).json();
      const channel = pane.channels.find((c: { id: string }) => c.id === 'C0SBXTEST1');
      expect(channel.name).toBe('#sandbox-test');
      expect(channel.messages[0]).toMatchObject({ ts, isBot: true, author: 'Linkline' });
      expect(
        channel.messages[0].blocks[1].elements.map((e: { action_id: string }) => e.action_id),
      ).toEqual(['claim', 'close']);

      const click = await post('/sandbox/slack/click', {
        user: amy,
        channel: 'C0SBXTEST1',
        ts,
        actionId: 'claim',
      });
      expect(click.json()).toEqual({ appStatus: 200 });
      const action = app.received.at(-1)!;
      expect(action.signed).toBe(true);
      expect(action.body).toMatchObject({
        type: 'block_actions',
        user: { id: amy },
        container: { message_ts: ts, channel_id: 'C0SBXTEST1' },
        actions: [{ action_id: 'claim', value: 'h1' }],
      });

      const reply = await post('/sandbox/slack/reply', {
        user: amy,
        channel: 'C0SBXTEST1',
        threadTs: ts,
        text: 'Hi, I am Amy',
      });
      expect(reply.statusCode).toBe(200);
      const event = app.received.at(-1)!;
      expect(event.signed).toBe(true);
      expect(event.body).toMatchObject({
        type: 'event_callback',
        event: { type: 'message', user: amy, text: 'Hi, I am Amy', thread_ts: ts },
      });
      await web.chat.postEphemeral({
        channel: 'C0SBXTEST1',
        user: amy,
        text: 'You claimed it',
      });
      const after = (await get('/sandbox/slack')).json();
      expect(after.ephemerals).toEqual([
        {
          channel: 'C0SBXTEST1',
          user: amy,
          text: 'You claimed it',
          blocks: null,
          threadTs: null,
          via: 'api',
        },
      ]);
      const thread = after.channels.find((c: { id: string }) => c.id === 'C0SBXTEST1').messages[0];
      expect(thread.replies).toMatchObject([{ author: 'Amy Hughes', text: 'Hi, I am Amy' }]);
      expect(
        (
          await post('/sandbox/slack/reply', {
            user: amy,
            channel: 'C0SBXTEST1',
            threadTs: '1.000001',
            text: 'x',
          })
        ).statusCode,
      ).toBe(400);
    } finally {
      await app.stop();
    }
  });
});

describe('production mode: no page, no /sandbox API, no demo data', () => {
  let s: RunningService;
  let twilio: TwilioFake;

  beforeAll(async () => {
    const sid = `AC${'a'.repeat(32)}`;
    twilio = await startTwilioFake({ accountSid: sid, authToken: 'prod-token' });
    s = await startService({
      TWILIO_ACCOUNT_SID: sid,
      TWILIO_AUTH_TOKEN: 'prod-token',
      TWILIO_FROM: '+447700900000',
      TWILIO_API_URL: twilio.url,
      SLACK_BOT_TOKEN: 'xoxb-1-2-production',
      SLACK_SIGNING_SECRET: 'production-signing-secret',
      SLACK_API_URL: 'http://127.0.0.1:9/api/',
    });
  });
  afterAll(async () => {
    await s?.stop();
    await twilio?.stop();
  });

  it('answers 404 for / and every /sandbox route, and seeds nothing', async () => {
    expect(s.service.config.mode).toBe('production');
    expect(s.sandbox).toBeNull();
    const inject = (method: 'GET' | 'POST', url: string, payload?: object) =>
      s.running.app.inject({ method, url, ...(payload ? { payload } : {}) });
    expect((await inject('GET', '/healthz')).statusCode).toBe(200);
    for (const [method, url, payload] of [
      ['GET', '/'],
      ['GET', '/sandbox/state'],
      ['GET', '/sandbox/assets/app.js'],
      ['GET', '/sandbox/sms?phone=%2B447700900111'],
      ['POST', '/sandbox/sms', { from: '+447700900111', body: 'hello' }],
      ['GET', '/sandbox/slack'],
      ['POST', '/sandbox/slack/click', {}],
      ['POST', '/sandbox/clock', { by: '1d' }],
    ] as const) {
      expect((await inject(method, url, payload)).statusCode, `${method} ${url}`).toBe(404);
    }
    const seeded = await s.service.db.query(
      'SELECT 1 FROM activities UNION ALL SELECT 1 FROM link_workers',
    );
    expect(seeded.rowCount).toBe(0);
  });
});
