import { SocketModeClient } from '@slack/socket-mode';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { waitFor } from '../../support/pipeline.js';

// The local Slack's Socket Mode side, driven by the real @slack/socket-mode client (the one
// Linkline uses): hello, envelopes, acks by envelope_id, re-sends, disconnects.

type Envelope = {
  envelope_id: string;
  type: string;
  body: Record<string, unknown>;
  retry_num?: number;
  retry_reason?: string;
  ack: (payload?: Record<string, unknown>) => Promise<void>;
};

const quiet = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => 'error' as never,
  setName: () => undefined,
};

let fake: SlackFake;
const clients: SocketModeClient[] = [];

async function connect(onEnvelope: (e: Envelope) => void) {
  const client = new SocketModeClient({
    appToken: fake.socket!.appToken,
    logger: quiet,
    clientPingTimeout: 500,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  client.on('slack_event', (e: Envelope) => onEnvelope(e));
  clients.push(client);
  await client.start();
  return client;
}

afterEach(async () => {
  for (const c of clients.splice(0)) await c.disconnect().catch(() => undefined);
  await fake?.stop();
});

const reply = { type: 'message', channel: 'C0HANDOFFS', user: 'U0LWAMY001', text: 'hi' };

describe('local Slack: Socket Mode', () => {
  it('an events_api envelope carries the event_callback; the ack by envelope_id is recorded with its delay', async () => {
    fake = await startSlackFake({ socketMode: true });
    const seen: Envelope[] = [];
    await connect((e) => {
      seen.push(e);
      void e.ack();
    });
    const delivery = await fake.sendEvent(reply);
    expect(delivery).toMatchObject({ acked: true, status: 200 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.type).toBe('events_api');
    expect(seen[0]!.body).toMatchObject({
      type: 'event_callback',
      event_id: delivery.eventId,
      event: { type: 'message', text: 'hi' },
    });
    expect(seen[0]!.retry_num).toBe(0);
    const [envelope] = fake.socket!.envelopes();
    expect(envelope).toMatchObject({ envelopeId: seen[0]!.envelope_id, retryAttempt: 0 });
    expect(envelope!.ackDelayMs).not.toBeNull();
    expect(fake.socket!.acks()).toEqual([
      expect.objectContaining({ envelopeId: seen[0]!.envelope_id, known: true }),
    ]);
  });

  it('an event not acked in time is sent again as a new envelope, same event_id, retry_attempt 1; a command is not', async () => {
    fake = await startSlackFake({
      socketMode: { ackTimeoutMs: 300, retryDelaysMs: [50, 50, 50] },
    });
    const seen: Envelope[] = [];
    await connect((e) => {
      seen.push(e);
      // The first delivery of the event is never acked (the app could not store it).
      if (e.type === 'events_api' && e.retry_num === 0) return;
      if (e.type === 'slash_commands') return;
      void e.ack();
    });
    const delivery = await fake.sendEvent(reply);
    expect(delivery.acked).toBe(true);
    const events = seen.filter((e) => e.type === 'events_api');
    expect(events.map((e) => [e.retry_num, e.retry_reason])).toEqual([
      [0, ''],
      [1, 'timeout'],
    ]);
    expect(events[0]!.body.event_id).toBe(events[1]!.body.event_id);
    expect(events[0]!.envelope_id).not.toBe(events[1]!.envelope_id);

    // A slash command not acked in time is not sent again (Slack shows the user an error).
    const command = await fake.sendCommand({
      command: '/linkline',
      text: 'find Ann',
      user_id: 'U0LWAMY001',
      channel_id: 'C0HANDOFFS',
    });
    expect(command.acked).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    const commands = seen.filter((e) => e.type === 'slash_commands');
    expect(commands).toHaveLength(1);
    expect(commands[0]!.body).toMatchObject({ command: '/linkline', text: 'find Ann' });
  });

  it('a ticket is good once; a bot token cannot open a connection', async () => {
    fake = await startSlackFake({ socketMode: true });
    const open = async (token: string) =>
      (await (
        await fetch(`${fake.apiUrl}apps.connections.open`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}` },
        })
      ).json()) as { ok: boolean; url?: string; error?: string };
    expect(await open(fake.botToken)).toEqual({ ok: false, error: 'not_allowed_token_type' });
    const opened = await open(fake.socket!.appToken);
    expect(opened.url).toMatch(
      /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=[\w-]+&app_id=A0LINKAPP1$/,
    );
    const first = new WebSocket(opened.url!);
    const hello = await new Promise<string>((resolve, reject) => {
      first.on('message', (m) => resolve(String(m)));
      first.on('error', () => reject(new Error('refused')));
    });
    expect(JSON.parse(hello)).toMatchObject({
      type: 'hello',
      connection_info: { app_id: 'A0LINKAPP1' },
    });
    const again = new WebSocket(opened.url!);
    const refused = await new Promise<boolean>((resolve) => {
      again.on('open', () => resolve(false));
      again.on('error', () => resolve(true));
    });
    expect(refused).toBe(true);
    first.close();
  });

  it('after a warning or refresh_requested disconnect the client reconnects and envelopes flow on the new connection', async () => {
    fake = await startSlackFake({ socketMode: { retryDelaysMs: [50, 50, 50] } });
    await connect((e) => void e.ack());
    await fake.socket!.waitConnected(1);
    expect(fake.socket!.disconnect('warning')).toBe(1);
    await waitFor(() => fake.calls('apps.connections.open').length === 2, 10_000);
    await fake.socket!.waitConnected(1);
    expect(fake.socket!.disconnect('refresh_requested')).toBe(1);
    // Sent while no connection is open: held, then delivered on the next one.
    const delivery = await fake.sendEvent(reply);
    expect(delivery.acked).toBe(true);
    expect(fake.calls('apps.connections.open')).toHaveLength(3);
    expect(fake.socket!.envelopes()[0]!.connection).toBe(3);
  });
});
