import type { WebClient } from '@slack/web-api';
import type { Logger } from 'pino';
import type { Db } from '../../store/db.js';
import { classify } from './client.js';

export type OutboxOp = 'post_parent' | 'post_reply' | 'update_parent' | 'post' | 'delete';

export interface OutboxPost {
  /** Posts with one key go out one at a time, in the order they were queued. */
  threadKey: string;
  handoffId?: string | null;
  op: OutboxOp;
  channel: string;
  payload: {
    text: string;
    blocks?: unknown[];
    reply_broadcast?: boolean;
    /** op `delete`: the outbox row whose post chat.delete removes. */
    target?: string;
  };
}

interface Row {
  id: string;
  thread_key: string;
  handoff_id: string | null;
  op: OutboxOp;
  channel: string;
  payload: OutboxPost['payload'];
  attempts: number;
  uncertain: boolean;
  created_at: Date;
}

/** Where a post landed: the channel id and its ts (null: a delete that had nothing to do). */
interface Landed {
  channel: string;
  ts: string | null;
}

export const METADATA_TYPE = 'linkline_post';

/**
 * Thread keys posted at most once, each with its partial unique index: a second process's
 * sweep queuing the same one does nothing (and returns null) instead of failing.
 */
const ONCE_PER_KEY = ['referral', 'notice', 'urgent-alert'] as const;

/** Queues a post in the caller's transaction: it goes out after commit, in order, durably. */
export async function enqueuePost(tx: Db, post: OutboxPost): Promise<string | null> {
  const once = ONCE_PER_KEY.find((prefix) => post.threadKey.startsWith(`${prefix}:`));
  const conflict =
    post.op === 'post_parent'
      ? "ON CONFLICT (handoff_id) WHERE op = 'post_parent' DO NOTHING"
      : once
        ? `ON CONFLICT (thread_key) WHERE thread_key LIKE '${once}:%' DO NOTHING`
        : '';
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO slack_outbox (thread_key, handoff_id, op, channel, payload)
     VALUES ($1, $2, $3, $4, $5) ${conflict} RETURNING id`,
    [post.threadKey, post.handoffId ?? null, post.op, post.channel, JSON.stringify(post.payload)],
  );
  return rows[0]?.id ?? null;
}

const LEASE_MS = 60_000;
const MAX_BACKOFF_MS = 60_000;
const ALERT_AFTER_MS = 5 * 60_000;
/** How soon a post held back from its channel (not private, not checked yet) is looked at again. */
const HELD_RETRY_MS = 5_000;

export interface OutboxDeps {
  db: Db;
  client: WebClient;
  logger: Logger;
  now: () => Date;
  /** Re-drive interval; the drain also runs whenever kick() is called. */
  pollMs?: number;
  /** A channel posts must not go to for now (channel-check.ts): they wait in the outbox. */
  held?: (channel: string) => boolean;
}

/** Sends queued Slack posts: one in flight per thread, Retry-After per method, no duplicates. */
export function createOutbox(deps: OutboxDeps) {
  const log = deps.logger.child({ component: 'slack_outbox' });
  const notBefore = new Map<string, number>();
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let lastAlert = 0;

  async function claim(): Promise<Row[]> {
    const now = deps.now();
    const { rows } = await deps.db.query<Row>(
      `UPDATE slack_outbox o SET status = 'sending', attempts = o.attempts + 1,
         lease_until = $1::timestamptz + interval '${LEASE_MS / 1000} seconds',
         uncertain = o.uncertain OR o.status = 'sending'
       WHERE o.id IN (
         SELECT h.id FROM slack_outbox h
         WHERE ((h.status = 'queued' AND h.next_attempt_at <= $1) OR (h.status = 'sending' AND h.lease_until < $1))
           AND NOT EXISTS (SELECT 1 FROM slack_outbox p WHERE p.thread_key = h.thread_key
             AND p.status IN ('queued', 'sending') AND p.seq < h.seq)
         ORDER BY h.seq LIMIT 20 FOR UPDATE SKIP LOCKED)
       RETURNING o.id, o.thread_key, o.handoff_id, o.op, o.channel, o.payload, o.attempts, o.uncertain, o.created_at`,
      [now],
    );
    return rows;
  }

  async function thread(row: Row): Promise<{ channel: string; ts: string } | null> {
    if (!row.handoff_id) return null;
    const { rows } = await deps.db.query<{
      slack_channel: string | null;
      slack_thread_ts: string | null;
    }>('SELECT slack_channel, slack_thread_ts FROM handoffs WHERE id = $1', [row.handoff_id]);
    const h = rows[0];
    return h?.slack_channel && h.slack_thread_ts
      ? { channel: h.slack_channel, ts: h.slack_thread_ts }
      : null;
  }

  /** Looks for our own post (by its metadata) before posting again after an unknown outcome. */
  async function alreadyPosted(
    row: Row,
    where: { channel: string; ts?: string },
  ): Promise<string | null> {
    const oldest = String(Math.floor(row.created_at.getTime() / 1000) - 120);
    const res = where.ts
      ? await deps.client.conversations.replies({
          channel: where.channel,
          ts: where.ts,
          include_all_metadata: true,
          limit: 1000,
        })
      : await deps.client.conversations.history({
          channel: where.channel,
          oldest,
          include_all_metadata: true,
          limit: 1000,
        });
    const found = (res.messages ?? []).find(
      (m) =>
        (m.metadata?.event_payload as { outbox_id?: string } | undefined)?.outbox_id === row.id,
    );
    return found?.ts ?? null;
  }

  async function post(
    row: Row,
    where: { channel: string; ts?: string },
  ): Promise<{ channel: string; ts: string }> {
    if (row.uncertain) {
      const ts = await alreadyPosted(row, where);
      if (ts) return { channel: where.channel, ts };
    }
    const args = {
      channel: where.channel,
      text: row.payload.text,
      ...(row.payload.blocks ? { blocks: row.payload.blocks } : {}),
      ...(where.ts
        ? { thread_ts: where.ts, reply_broadcast: row.payload.reply_broadcast ?? false }
        : {}),
      unfurl_links: false,
      metadata: { event_type: METADATA_TYPE, event_payload: { outbox_id: row.id } },
    };
    const res = await deps.client.chat.postMessage(
      args as Parameters<WebClient['chat']['postMessage']>[0],
    );
    return { channel: res.channel ?? where.channel, ts: res.ts ?? '' };
  }

  /**
   * Deletes the post of another row (erasure). Waits while that row may still be posting;
   * nothing to do if it never posted; a post already gone counts as deleted.
   */
  async function remove(row: Row): Promise<Landed | 'wait'> {
    const { rows } = await deps.db.query<{
      status: string;
      slack_ts: string | null;
      slack_channel: string | null;
    }>('SELECT status, slack_ts, slack_channel FROM slack_outbox WHERE id = $1', [
      row.payload.target,
    ]);
    const target = rows[0];
    if (target?.status === 'queued' || target?.status === 'sending') return 'wait';
    if (!target?.slack_ts) return { channel: row.channel, ts: null };
    const where = { channel: target.slack_channel ?? row.channel, ts: target.slack_ts };
    try {
      await deps.client.chat.delete(where);
    } catch (err) {
      const f = classify(err);
      if (f.kind !== 'permanent' || f.code !== 'message_not_found') throw err;
    }
    return where;
  }

  async function perform(row: Row): Promise<Landed | 'wait' | 'held'> {
    // Removing a post (erasure) is never held: it takes nothing to the channel.
    if (row.op === 'delete') return remove(row);
    const held = (channel: string) => deps.held?.(channel) === true;
    if (row.op !== 'post_reply' && row.op !== 'update_parent' && held(row.channel)) return 'held';
    if (row.op === 'post_parent') {
      // A channel name resolves to an id in the response; history needs the id.
      const where = { channel: row.channel };
      const done = await post(row, where);
      await deps.db.query(
        `UPDATE handoffs SET slack_channel = $2, slack_thread_ts = $3, updated_at = now()
         WHERE id = $1 AND slack_thread_ts IS NULL`,
        [row.handoff_id, done.channel, done.ts],
      );
      return done;
    }
    if (row.op === 'post') {
      // A user id: the bot's DM with that user (an activity lead's summary and nudge).
      const channel = /^[UW][A-Z0-9]+$/.test(row.channel)
        ? ((await deps.client.conversations.open({ users: row.channel })).channel?.id ??
          row.channel)
        : row.channel;
      return post(row, { channel });
    }
    const t = await thread(row);
    if (!t) return 'wait';
    if (held(t.channel)) return 'held';
    if (row.op === 'post_reply') return post(row, t);
    const update = {
      channel: t.channel,
      ts: t.ts,
      text: row.payload.text,
      blocks: row.payload.blocks ?? [],
    };
    await deps.client.chat.update(update as Parameters<WebClient['chat']['update']>[0]);
    return t;
  }

  const METHODS: Partial<Record<OutboxOp, string>> = {
    update_parent: 'chat.update',
    delete: 'chat.delete',
  };
  const methodOf = (row: Row) => METHODS[row.op] ?? 'chat.postMessage';

  async function requeue(
    row: Row,
    delayMs: number,
    fields: { uncertain?: boolean; error?: string; countAttempt?: boolean },
  ) {
    await deps.db.query(
      `UPDATE slack_outbox SET status = 'queued', lease_until = NULL, next_attempt_at = $2,
         uncertain = $3, last_error = coalesce($4, last_error), attempts = attempts - $5 WHERE id = $1`,
      [
        row.id,
        new Date(deps.now().getTime() + delayMs),
        fields.uncertain ?? row.uncertain,
        fields.error ?? null,
        fields.countAttempt === false ? 1 : 0,
      ],
    );
  }

  async function sendOne(row: Row): Promise<void> {
    const method = methodOf(row);
    const wait = (notBefore.get(method) ?? 0) - deps.now().getTime();
    if (wait > 0) return requeue(row, wait, { countAttempt: false });
    try {
      const done = await perform(row);
      if (done === 'wait') return requeue(row, 1000, { countAttempt: false });
      if (done === 'held') return requeue(row, HELD_RETRY_MS, { countAttempt: false });
      await deps.db.query(
        `UPDATE slack_outbox SET status = 'sent', slack_ts = $2, slack_channel = $3, sent_at = now(),
           lease_until = NULL, uncertain = false WHERE id = $1`,
        [row.id, done.ts, done.channel],
      );
    } catch (err) {
      const f = classify(err);
      if (f.kind === 'rate_limited') {
        notBefore.set(method, deps.now().getTime() + f.retryAfterMs);
        log.warn({ method, retryAfterMs: f.retryAfterMs }, 'slack rate limited');
        return requeue(row, f.retryAfterMs, { countAttempt: false, error: 'ratelimited' });
      }
      if (f.kind === 'permanent') {
        log.error(
          { code: f.code, op: row.op, alert: 'slack_post_failed' },
          'ops alert: Slack refused a post',
        );
        await deps.db.query(
          `UPDATE slack_outbox SET status = 'failed', last_error = $2, lease_until = NULL WHERE id = $1`,
          [row.id, f.code],
        );
        return;
      }
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(row.attempts, 7));
      log.warn(
        { code: f.code, attempt: row.attempts, op: row.op },
        'slack post failed; will retry',
      );
      await requeue(row, backoff, { uncertain: row.uncertain || f.uncertain, error: f.code });
      alertIfStalled(row);
    }
  }

  function alertIfStalled(row: Row): void {
    const age = deps.now().getTime() - row.created_at.getTime();
    if (age < ALERT_AFTER_MS || deps.now().getTime() - lastAlert < ALERT_AFTER_MS) return;
    lastAlert = deps.now().getTime();
    log.error(
      { alert: 'slack_unavailable', oldestAgeMs: age },
      'ops alert: Slack posts are queued and retrying',
    );
  }

  async function drainOnce(): Promise<number> {
    const rows = await claim();
    await Promise.all(rows.map((r) => sendOne(r)));
    return rows.length;
  }

  async function loop(): Promise<void> {
    do {
      again = false;
      try {
        if ((await drainOnce()) > 0) again = true;
      } catch (err) {
        log.warn({ reason: (err as Error).message }, 'slack outbox drain failed');
      }
    } while (again);
  }

  function kick(): Promise<void> {
    again = true;
    if (!running)
      running = loop().finally(() => {
        running = null;
      });
    return running;
  }

  return {
    kick,
    /** Drains until nothing is due now (tests and shutdown). */
    async drain(): Promise<void> {
      await kick();
    },
    start(): void {
      timer ??= setInterval(() => void kick(), deps.pollMs ?? 1000);
    },
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = null;
      await running;
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
