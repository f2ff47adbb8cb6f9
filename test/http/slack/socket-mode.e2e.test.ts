import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SocketModeHub } from '../../../src/sandbox/slack/index.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, type Harness, startHarness } from './harness.js';

// Checklist 62: Socket Mode. The whole service in sandbox mode with SLACK_SOCKET_MODE=on: the
// local Slack sends events and clicks as envelopes over the WebSocket Linkline opened with
// apps.connections.open, into the same inbox dedupe and Bolt listeners as HTTP mode.

let h: Harness;
let hub: SocketModeHub;
beforeAll(async () => {
  h = await startHarness({ SLACK_SOCKET_MODE: 'on' });
  hub = h.slack.socket!;
  await hub.waitConnected(1);
}, 60_000);
afterAll(async () => {
  await h?.close();
});

async function inbox(eventId: string) {
  const { rows } = await h.service.db.query<{ attempts: number; processed: boolean }>(
    'SELECT attempts, processed_at IS NOT NULL AS processed FROM slack_inbox WHERE id = $1',
    [`event:${eventId}`],
  );
  return rows[0];
}

describe('Socket Mode (checklist 62)', () => {
  it('the app connects with its app-level token; a bot token is refused for apps.connections.open', async () => {
    const opened = h.slack.calls('apps.connections.open');
    expect(opened.length).toBeGreaterThanOrEqual(1);
    expect(opened.every((c) => c.ok === true)).toBe(true);
    const res = await fetch(`${h.slack.apiUrl}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.slack.botToken}` },
    });
    expect(await res.json()).toEqual({ ok: false, error: 'not_allowed_token_type' });
    const bad = await fetch(`${h.slack.apiUrl}apps.connections.open`, {
      method: 'POST',
      headers: { authorization: 'Bearer xapp-1-A0LINKAPP1-1-wrong' },
    });
    expect(await bad.json()).toEqual({ ok: false, error: 'invalid_auth' });
  });

  it('a burst with a refresh_requested disconnect in the middle: none lost, re-sent envelopes handled once, each acked by envelope_id', async () => {
    const { phone, parent } = await h.openThread('can I talk to a person');
    const texts = Array.from({ length: 20 }, (_, i) => `Socket reply ${i + 1}`);
    const before = hub.envelopes().length;
    // Ten replies go out, then (same tick: their acks cannot have come back) Slack asks the
    // connection to refresh; the other ten are sent while the app reconnects.
    const first = texts.slice(0, 10).map((t) => h.slack.userReplies(HANDOFFS, parent.ts, AMY, t));
    expect(hub.disconnect('refresh_requested')).toBe(1);
    const rest = texts.slice(10).map((t) => h.slack.userReplies(HANDOFFS, parent.ts, AMY, t));
    const posts = await Promise.all([...first, ...rest]);

    // None lost: every reply reached the participant, exactly once.
    await waitFor(() => texts.every((t) => h.texts(phone).includes(t)), 30_000);
    for (const t of texts) expect(h.texts(phone).filter((x) => x === t)).toHaveLength(1);
    const stored = await h.service.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE direction = 'out' AND body LIKE 'Socket reply %'`,
    );
    expect(stored.rows[0]!.n).toBe(20);

    // Each event: delivered (maybe more than once), acked once by its envelope_id, handled once.
    const eventIds = posts.map((p) => p.deliveries[0]!.eventId);
    for (const p of posts) expect(p.deliveries[0]).toMatchObject({ acked: true, status: 200 });
    const envelopes = hub.envelopes().slice(before);
    const resent = new Set<string>();
    for (const id of eventIds) {
      const mine = envelopes.filter((e) => e.eventId === id);
      expect(mine.filter((e) => e.ackedAt !== null)).toHaveLength(1);
      if (mine.length > 1) {
        resent.add(id);
        expect(mine.map((e) => e.retryAttempt)).toEqual(mine.map((_, i) => i));
      }
      expect(await inbox(id)).toEqual({ attempts: 1, processed: true });
    }
    // The disconnect cut acks off: those envelopes came again, on the new connection.
    expect(resent.size).toBeGreaterThan(0);
    const connections = new Set(envelopes.map((e) => e.connection));
    expect(connections.size).toBe(2);
    // Every ack named an envelope the fake had sent and not yet seen acked; the delay was recorded.
    const acked = envelopes.filter((e) => e.ackedAt !== null);
    expect(acked.every((e) => e.ackDelayMs !== null)).toBe(true);
    const ackIds = hub.acks().map((a) => a.envelopeId);
    for (const e of acked) expect(ackIds).toContain(e.envelopeId);
    expect(hub.acks().every((a) => a.known)).toBe(true);
    expect(hub.connections()).toBe(1);
  }, 60_000);

  it('a button click comes as an interactive envelope: acked, handled once, Web API calls as in HTTP mode', async () => {
    const { p, parent } = await h.openThread('I want to speak to someone');
    const click = await h.slack.clickButton({
      user: AMY,
      channel: HANDOFFS,
      ts: parent.ts,
      actionId: 'handoff_claim',
    });
    expect(click).toMatchObject({ acked: true, status: 200 });
    await waitFor(async () => (await h.handoff(p.id))?.status === 'claimed');
    expect((await h.handoff(p.id))?.claimed_by).toBe(AMY);
    const envelope = hub.envelopes().find((e) => e.type === 'interactive');
    expect(envelope?.ackedAt).not.toBeNull();
    // Nothing was POSTed to the app's Request URLs: every delivery went over the socket.
    expect(h.slack.deliveries().every((d) => d.url === 'socket-mode')).toBe(true);
    // The card update goes out through the Web API exactly as in HTTP mode.
    await waitFor(() =>
      h.slack
        .calls('chat.update')
        .some((c) => c.ok === true && (c.params as { ts?: string }).ts === parent.ts),
    );
  });
});
