import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { outboxClient } from '../../../src/channels/slack/client.js';
import { createOutbox, enqueuePost, type Outbox } from '../../../src/channels/slack/outbox.js';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { capturedLogger } from '../../support/log-capture.js';

// Checklist 58, the timeout path: the outbox's WebClient has an explicit `timeout` and no SDK
// retries. A chat.postMessage that Slack took but never answered (`hang_after_post` at the
// local Slack) times out on the client; the outbox's own retry finds the post by its metadata
// instead of posting again.

const HANDOFFS = 'C0HANDOFFS';
/** Short, so the test waits for the client's timeout for real, a fraction of a second. */
const TIMEOUT_MS = 300;

interface OutboxRow {
  status: string;
  attempts: number;
  uncertain: boolean;
  last_error: string | null;
  slack_ts: string | null;
}

describe.each(drivers)('the Slack outbox, a post that hangs ($name)', (driver) => {
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
        timeoutMs: TIMEOUT_MS,
        logger: captured.logger,
      }),
      logger: captured.logger,
      now: () => clock,
    });
  });
  afterEach(async () => {
    // The local Slack first: stopping it ends any request still hanging there.
    await fake.stop();
    await outbox.stop();
  });

  const advance = (ms: number) => {
    clock = new Date(clock.getTime() + ms);
  };

  async function handoff(): Promise<string> {
    const p = await createParticipant(db(), { phone: uniquePhone() });
    const { rows } = await db().query<{ id: string }>(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
      [p.id],
    );
    return rows[0]!.id;
  }

  const queue = (id: string, op: 'post_parent' | 'post_reply', text: string) =>
    enqueuePost(db(), {
      threadKey: `handoff:${id}`,
      handoffId: id,
      op,
      channel: HANDOFFS,
      payload: { text },
    });

  async function row(outboxId: string | null): Promise<OutboxRow> {
    const { rows } = await db().query<OutboxRow>(
      'SELECT status, attempts, uncertain, last_error, slack_ts FROM slack_outbox WHERE id = $1',
      [outboxId],
    );
    return rows[0]!;
  }

  const posts = () => fake.calls('chat.postMessage');
  const count = (text: string) => fake.messages(HANDOFFS).filter((m) => m.text === text).length;

  it('58: a parent post that hangs after Slack took it times out, and the retry finds it: one post, one call per attempt', async () => {
    const id = await handoff();
    const parentId = await queue(id, 'post_parent', `parent ${id}`);
    const replyId = await queue(id, 'post_reply', 'reply 1');
    fake.inject({ kind: 'hang_after_post', method: 'chat.postMessage', times: 1 });

    // Attempt 1: Slack posts and never answers; the client gives up after its timeout.
    await outbox.drain();
    expect(count(`parent ${id}`)).toBe(1);
    expect(posts().map((c) => c.outcome)).toEqual(['hang']);
    // retries: 0 — one outbox attempt, one chat.postMessage at Slack (no SDK retry).
    expect(await row(parentId)).toMatchObject({
      status: 'queued',
      attempts: 1,
      uncertain: true,
      last_error: 'request_error',
      slack_ts: null,
    });
    expect((await row(replyId)).status).toBe('queued');
    expect(logs()).toContain('"code":"request_error"');

    // Attempt 2: the outcome was unknown, so the outbox looks first and finds its own post.
    advance(60_000);
    await outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text === `parent ${id}`)!;
    expect(await row(parentId)).toMatchObject({
      status: 'sent',
      attempts: 2,
      uncertain: false,
      slack_ts: parent.ts,
    });
    expect(fake.calls('conversations.history').length).toBeGreaterThan(0);
    expect(count(`parent ${id}`)).toBe(1);
    // The hung call and the reply: no second chat.postMessage for the parent.
    expect(posts()).toHaveLength(2);
    expect(posts()[1]?.params).toMatchObject({ text: 'reply 1', thread_ts: parent.ts });
    expect(fake.thread(HANDOFFS, parent.ts).map((m) => m.text)).toEqual([
      `parent ${id}`,
      'reply 1',
    ]);
    const { rows } = await db().query<{ slack_channel: string; slack_thread_ts: string }>(
      'SELECT slack_channel, slack_thread_ts FROM handoffs WHERE id = $1',
      [id],
    );
    expect(rows[0]).toEqual({ slack_channel: HANDOFFS, slack_thread_ts: parent.ts });
    // No message text in the logs.
    expect(logs()).not.toContain(`parent ${id}`);
    expect(logs()).not.toContain('reply 1');
  });

  it('58: a thread reply that hangs after Slack took it times out, and the retry finds it in the thread: one reply', async () => {
    const id = await handoff();
    await queue(id, 'post_parent', `parent ${id}`);
    await outbox.drain();
    const parent = fake.messages(HANDOFFS).find((m) => m.text === `parent ${id}`)!;
    const before = posts().length;

    const replyId = await queue(id, 'post_reply', 'reply that hangs');
    const nextId = await queue(id, 'post_reply', 'reply after it');
    fake.inject({ kind: 'hang_after_post', method: 'chat.postMessage', times: 1 });
    await outbox.drain();
    expect(
      posts()
        .slice(before)
        .map((c) => c.outcome),
    ).toEqual(['hang']);
    expect(await row(replyId)).toMatchObject({ status: 'queued', attempts: 1, uncertain: true });
    // Order is kept: the next reply waits behind the uncertain one.
    expect(await row(nextId)).toMatchObject({ status: 'queued', attempts: 0 });

    advance(60_000);
    await outbox.drain();
    expect(fake.calls('conversations.replies').length).toBeGreaterThan(0);
    expect(await row(replyId)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(fake.thread(HANDOFFS, parent.ts).map((m) => m.text)).toEqual([
      `parent ${id}`,
      'reply that hangs',
      'reply after it',
    ]);
    expect(count('reply that hangs')).toBe(1);
    // The hung call, then only the next reply: one chat.postMessage per outbox attempt.
    expect(
      posts()
        .slice(before)
        .map((c) => [c.outcome, c.params.text]),
    ).toEqual([
      ['hang', 'reply that hangs'],
      [200, 'reply after it'],
    ]);
    const sent = posts().at(-1)!;
    expect(sent.params.thread_ts).toBe(parent.ts);
    expect([false, 'false']).toContain(sent.params.reply_broadcast);
  });
});
