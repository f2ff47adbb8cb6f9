import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createChannelGuard } from '../../../src/channels/slack/channel-check.js';
import { outboxClient } from '../../../src/channels/slack/client.js';
import { createOutbox, enqueuePost } from '../../../src/channels/slack/outbox.js';
import { loadConfig } from '../../../src/config/load.js';
import { buildService, type Service } from '../../../src/main.js';
import {
  SANDBOX_CHANNELS,
  type SlackFake,
  startSlackFake,
} from '../../../src/sandbox/slack/index.js';
import { openDb } from '../../../src/store/db.js';
import { drivers, TEST_DATABASE_URL, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';
import { waitFor } from '../../support/pipeline.js';

// Checklist 92: hand-off threads go only to a private channel. The check against the local
// Slack through the real @slack/web-api client; the hold in the durable outbox.

const BOT = 'U0LINKBOT1';
const AMY = 'U0LWAMY001';
const PUBLIC = 'C0PUBLIC01';
const HIDDEN = 'C0HIDDEN01';

const alerts = (logs: string, alert: string) =>
  logs
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.alert === alert);

async function fakeWithChannels(): Promise<SlackFake> {
  const fake = await startSlackFake();
  fake.addChannel({ id: PUBLIC, name: 'handoffs-public', isPrivate: false, members: [AMY, BOT] });
  // Private (the default) without the bot: it does not exist for the bot.
  fake.addChannel({ id: HIDDEN, name: 'handoffs-hidden', members: [AMY] });
  return fake;
}

describe.each(drivers)('the private channel check ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });
  let fake: SlackFake;
  let captured: ReturnType<typeof capturedLogger>;
  let clock: Date;

  beforeEach(async () => {
    fake = await fakeWithChannels();
    captured = capturedLogger('info');
    clock = new Date(Date.now() + 1000);
  });
  afterEach(async () => {
    await fake.stop();
  });

  function setUp(handoffs: string, referrals = 'C0REFERRAL', apiUrl = fake.apiUrl) {
    const client = outboxClient({
      token: fake.botToken,
      apiUrl,
      timeoutMs: 2000,
      logger: captured.logger,
    });
    const guard = createChannelGuard({
      client,
      channels: [
        { setting: 'SLACK_HANDOFF_CHANNEL', ref: handoffs },
        { setting: 'SLACK_REFERRALS_CHANNEL', ref: referrals },
      ],
      logger: captured.logger,
      enabled: true,
      recheckMs: { unverified: 50 },
    });
    const outbox = createOutbox({
      db: db(),
      client,
      logger: captured.logger,
      now: () => clock,
      held: guard.held,
    });
    return { guard, outbox };
  }

  const queuePost = (channel: string, text: string) =>
    enqueuePost(db(), {
      threadKey: `test:${randomBytes(4).toString('hex')}`,
      op: 'post',
      channel,
      payload: { text },
    });

  it('a public hand-off channel: the alert (ids only), and posts wait in the outbox until it is private', async () => {
    const { guard, outbox } = setUp(PUBLIC);
    expect(await guard.check()).toEqual({
      SLACK_HANDOFF_CHANNEL: 'not_private',
      SLACK_REFERRALS_CHANNEL: 'private',
    });
    const [alert, ...more] = alerts(captured.output(), 'slack_channel_not_private');
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      level: 'error',
      setting: 'SLACK_HANDOFF_CHANNEL',
      channel: PUBLIC,
      state: 'not_private',
    });

    const id = await queuePost(PUBLIC, 'Hand-off P-TEST: Ada would like to talk');
    await queuePost('C0REFERRAL', 'New referral P-TEST');
    await outbox.drain();
    expect(fake.messages(PUBLIC)).toEqual([]);
    expect(fake.messages('C0REFERRAL')).toHaveLength(1);
    const row = await db().query('SELECT status, attempts FROM slack_outbox WHERE id = $1', [id]);
    expect(row.rows).toEqual([{ status: 'queued', attempts: 0 }]);
    expect(captured.output()).not.toContain('Ada');

    // The workspace admin makes it private; the next check lets the held post go, once.
    fake.addChannel({ id: PUBLIC, name: 'handoffs-public', isPrivate: true, members: [AMY, BOT] });
    expect((await guard.check()).SLACK_HANDOFF_CHANNEL).toBe('private');
    clock = new Date(clock.getTime() + 10_000);
    await outbox.drain();
    expect(fake.messages(PUBLIC).map((m) => m.text)).toEqual([
      'Hand-off P-TEST: Ada would like to talk',
    ]);
  });

  it('private channels, by id or by #name: no alert, posts go out', async () => {
    const { guard, outbox } = setUp('#linkline-handoffs', 'C0REFERRAL');
    expect(guard.held('#linkline-handoffs')).toBe(true);
    expect(await guard.check()).toEqual({
      SLACK_HANDOFF_CHANNEL: 'private',
      SLACK_REFERRALS_CHANNEL: 'private',
    });
    expect(alerts(captured.output(), 'slack_channel_not_private')).toEqual([]);
    expect(guard.held('#linkline-handoffs')).toBe(false);
    expect(guard.held('C0HANDOFFS')).toBe(false);
    await queuePost('#linkline-handoffs', 'Hand-off P-TEST');
    await outbox.drain();
    expect(fake.messages('C0HANDOFFS')).toHaveLength(1);
  });

  it('a channel the bot cannot see (channel_not_found), or a public #name, is alerted and held', async () => {
    const { guard } = setUp(HIDDEN, '#handoffs-public');
    expect(await guard.check()).toEqual({
      SLACK_HANDOFF_CHANNEL: 'not_found',
      SLACK_REFERRALS_CHANNEL: 'not_private',
    });
    const found = alerts(captured.output(), 'slack_channel_not_private');
    expect(found.map((a) => [a.channel, a.code ?? null])).toEqual([
      [HIDDEN, 'channel_not_found'],
      [PUBLIC, null],
    ]);
    expect(guard.held(HIDDEN)).toBe(true);
    expect(guard.held(PUBLIC)).toBe(true);
    expect(guard.held('#handoffs-public')).toBe(true);
  });

  it('Slack failing at start-up: a warning, nothing held, checked again until it answers', async () => {
    fake.inject({ kind: '503', method: 'conversations.info', times: 2 });
    const { guard } = setUp('C0HANDOFFS');
    guard.start();
    try {
      await waitFor(() => alerts(captured.output(), 'slack_channel_check_failed').length > 0);
      expect(guard.held('C0HANDOFFS')).toBe(false);
      await waitFor(() => /slack channel is private/.test(captured.output()));
      expect(alerts(captured.output(), 'slack_channel_not_private')).toEqual([]);
    } finally {
      guard.stop();
    }
  });
});

describe('start-up in production mode', () => {
  const schemas: string[] = [];
  let fake: SlackFake | null = null;
  afterAll(async () => {
    await fake?.stop();
    const admin = await openDb({ databaseUrl: TEST_DATABASE_URL });
    for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    await admin.close();
  });

  async function start(slackApiUrl: string, handoffs: string) {
    const schema = `ll_test_${randomBytes(6).toString('hex')}`;
    schemas.push(schema);
    const bootstrap = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    await bootstrap.close();
    const config = loadConfig({
      DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      QUEUE_PREFIX: `lltest-${randomBytes(4).toString('hex')}`,
      WORKERS: 'off',
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'prod-token',
      TWILIO_FROM: '+447700900000',
      TWILIO_API_URL: 'http://127.0.0.1:9',
      SLACK_BOT_TOKEN: fake?.botToken ?? 'xoxb-1-2-production',
      SLACK_SIGNING_SECRET: 'production-signing-secret',
      SLACK_API_URL: slackApiUrl,
      SLACK_HANDOFF_CHANNEL: handoffs,
      SLACK_REFERRALS_CHANNEL: 'C0REFERRAL',
    });
    const captured = capturedLogger('info');
    const service: Service = await buildService(config, captured.logger);
    return { service, logs: captured.output };
  }

  it('checks the channels: a public hand-off channel raises the alert and is held', async () => {
    fake = await fakeWithChannels();
    const { service, logs } = await start(fake.apiUrl, PUBLIC);
    try {
      await waitFor(() => alerts(logs(), 'slack_channel_not_private').length > 0);
      expect(service.slack.channelGuard.held(PUBLIC)).toBe(true);
      expect(service.slack.channelGuard.held('C0REFERRAL')).toBe(false);
    } finally {
      await service.close();
    }
  });

  it('Slack unreachable at start-up: the service starts, warns, holds nothing', async () => {
    const { service, logs } = await start('http://127.0.0.1:9/api/', 'C0HANDOFFS');
    try {
      await waitFor(() => alerts(logs(), 'slack_channel_check_failed').length >= 2);
      expect(service.slack.channelGuard.held('C0HANDOFFS')).toBe(false);
    } finally {
      await service.close();
    }
  });
});

// The sandbox's own channels stay private, as a hand-off channel must be.
it('the sandbox workspace: hand-off and referral channels are private', () => {
  const byId = Object.fromEntries(SANDBOX_CHANNELS.map((c) => [c.id, c.isPrivate]));
  expect(byId).toMatchObject({ C0HANDOFFS: true, C0REFERRAL: true });
});
