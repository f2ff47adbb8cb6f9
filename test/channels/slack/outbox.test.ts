import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboxClient } from '../../../src/channels/slack/client.js';
import { createOutbox, enqueuePost, type Outbox } from '../../../src/channels/slack/outbox.js';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import type { Db } from '../../../src/store/db.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';

// Checklist 57, 58, 61: the durable, ordered outbox against the local Slack through the real
// @slack/web-api client, on both database drivers, with a clock the test moves.

const HANDOFFS = 'C0HANDOFFS';

describe.each(drivers)('the Slack outbox ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });
  let fake: SlackFake;
  let outbox: Outbox;
  let clock: Date;
  let logs: () => string;

  beforeEach(async () => {
    fake = await startSlackFake();
    // Rows are stamped with the database's now(): start the test clock there.
    clock = new Date(Date.now() + 1000);
    const captured = capturedLogger('info');
    logs = captured.output;
    outbox = createOutbox({
      db: db(),
      client: outboxClient({
        token: fake.botToken,
        apiUrl: fake.apiUrl,
        timeoutMs: 2000,
        logger: captured.logger,
      }),
      logger: captured.logger,
      now: () => clock,
    });
  });
  afterEach(async () => {
    await outbox.stop();
    await fake.stop();
  });

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  /** A hand-off with its parent and `n` replies queued, in order. */
  async function queueThread(d: Db, n: number): Promise<string> {
    const p = await createParticipant(d, { phone: uniquePhone() });
    const { rows } = await d.query<{ id: string }>(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
      [p.id],
    );
    const id = rows[0]!.id;
    const key = `handoff:${id}`;
    await enqueuePost(d, {
      threadKey: key,
      handoffId: id,
      op: 'post_parent',
      channel: HANDOFFS,
      payload: { text: `parent ${id}` },
    });
    for (let i = 1; i <= n; i += 1)
      await enqueuePost(d, {
        threadKey: key,
        handoffId: id,
        op: 'post_reply',
        channel: HANDOFFS,
        payload: { text: `reply ${i}` },
      });
    return id;
  }

  async function thread(id: string): Promise<string[]> {
    const { rows } = await db().query<{ slack_thread_ts: string | null }>(
      'SELECT slack_thread_ts FROM handoffs WHERE id = $1',
      [id],
    );
    const ts = rows[0]?.slack_thread_ts;
    return ts ? fake.thread(HANDOFFS, ts).map((m) => m.text) : [];
  }

  it('57: 429 with Retry-After 7: no call to the method for 7 s, then everything in order', async () => {
    const id = await queueThread(db(), 3);
    fake.inject({ kind: '429', method: 'chat.postMessage', retryAfterSeconds: 7 });
    await outbox.drain();
    const after429 = fake.calls('chat.postMessage').length;
    expect(after429).toBe(1);
    advance(6_900);
    await outbox.drain();
    expect(fake.calls('chat.postMessage')).toHaveLength(after429);
    advance(100);
    await outbox.drain();
    expect(await thread(id)).toEqual([`parent ${id}`, 'reply 1', 'reply 2', 'reply 3']);
    const replies = fake.calls('chat.postMessage').slice(2);
    expect(
      replies.every(
        (c) => c.params.reply_broadcast === false || c.params.reply_broadcast === 'false',
      ),
    ).toBe(true);
  });

  it('58: a lost chat.postMessage response makes no duplicate (found by our metadata)', async () => {
    const id = await queueThread(db(), 2);
    fake.inject({ kind: 'reset_after_post', method: 'chat.postMessage', times: 1 });
    await outbox.drain();
    advance(60_000);
    await outbox.drain();
    advance(60_000);
    await outbox.drain();
    expect(await thread(id)).toEqual([`parent ${id}`, 'reply 1', 'reply 2']);
    expect(fake.messages(HANDOFFS).filter((m) => m.text === `parent ${id}`)).toHaveLength(1);
    expect(fake.calls('conversations.history').length).toBeGreaterThan(0);
    // And a lost response to a reply: looked up with conversations.replies.
    await enqueuePost(db(), {
      threadKey: `handoff:${id}`,
      handoffId: id,
      op: 'post_reply',
      channel: HANDOFFS,
      payload: { text: 'reply 3' },
    });
    fake.inject({ kind: 'reset_after_post', method: 'chat.postMessage', times: 1 });
    await outbox.drain();
    advance(60_000);
    await outbox.drain();
    expect(await thread(id)).toEqual([`parent ${id}`, 'reply 1', 'reply 2', 'reply 3']);
    expect(fake.messages(HANDOFFS).filter((m) => m.text === 'reply 3')).toHaveLength(1);
    expect(fake.calls('conversations.replies').length).toBeGreaterThan(0);
  });

  it('61: Slack answering 503 for 10 minutes: queued and retried, nothing lost or doubled, order kept, ops alert', async () => {
    const a = await queueThread(db(), 3);
    const b = await queueThread(db(), 2);
    fake.inject({ kind: '503', times: 1000 });
    for (let minute = 0; minute < 10; minute += 1) {
      await outbox.drain();
      advance(60_000);
    }
    expect(await thread(a)).toEqual([]);
    const pending = await db().query(
      `SELECT 1 FROM slack_outbox WHERE status = 'queued' AND handoff_id = ANY($1::uuid[])`,
      [[a, b]],
    );
    expect(pending.rowCount).toBe(7);
    expect(logs()).toContain('"alert":"slack_unavailable"');
    fake.clearFaults();
    for (let i = 0; i < 4; i += 1) {
      await outbox.drain();
      advance(60_000);
    }
    expect(await thread(a)).toEqual([`parent ${a}`, 'reply 1', 'reply 2', 'reply 3']);
    expect(await thread(b)).toEqual([`parent ${b}`, 'reply 1', 'reply 2']);
    expect(logs()).not.toContain('parent ');
  });

  it('56: the thread is persisted: after a restart (a new outbox) replies go to the same thread', async () => {
    const id = await queueThread(db(), 1);
    await outbox.drain();
    await outbox.stop();
    const restarted = createOutbox({
      db: db(),
      client: outboxClient({
        token: fake.botToken,
        apiUrl: fake.apiUrl,
        timeoutMs: 2000,
        logger: capturedLogger('silent').logger,
      }),
      logger: capturedLogger('silent').logger,
      now: () => clock,
    });
    await enqueuePost(db(), {
      threadKey: `handoff:${id}`,
      handoffId: id,
      op: 'post_reply',
      channel: HANDOFFS,
      payload: { text: 'after restart' },
    });
    await restarted.drain();
    expect(await thread(id)).toEqual([`parent ${id}`, 'reply 1', 'after restart']);
    expect(fake.messages(HANDOFFS).filter((m) => m.text === `parent ${id}`)).toHaveLength(1);
  });

  it('a permanent refusal (channel_not_found) is not retried and raises an ops alert', async () => {
    const p = await createParticipant(db(), { phone: uniquePhone() });
    await enqueuePost(db(), {
      threadKey: `referral:${p.id}`,
      op: 'post',
      channel: 'C0NOSUCH01',
      payload: { text: 'x' },
    });
    await outbox.drain();
    advance(120_000);
    await outbox.drain();
    expect(fake.calls('chat.postMessage')).toHaveLength(1);
    expect(logs()).toContain('"alert":"slack_post_failed"');
  });
});
