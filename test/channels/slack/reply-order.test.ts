import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import type { SlackDeps } from '../../../src/channels/slack/deps.js';
import { ReplyHeld, threadReply } from '../../../src/channels/slack/handoff-actions.js';
import { MAX_ATTEMPTS } from '../../../src/channels/slack/inbox.js';
import { createSlackChannel } from '../../../src/channels/slack/index.js';
import { parseStaffed, type SlackAppConfig } from '../../../src/config/slack-app.js';
import type { Effects } from '../../../src/runner/effects.js';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import type { Db } from '../../../src/store/db.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { useLogWatch, waitFor } from '../../support/pipeline.js';

// A hand-off thread's link-worker replies reach the participant in the order they were
// written (Slack ts), whatever happens to one event's first processing: the chaos suite once
// saw reply 2 texted before reply 1, whose processing had failed after Slack was acked and
// was run again only by the 30 s sweep.

const HANDOFFS = 'C0HANDOFFS';
const AMY = 'U0LWAMY001';
const PARENT = '1765000000.000100';

let seq = 0;
function envelope(eventId: string, ts: string, text: string, threadTs = PARENT) {
  return {
    token: 'x',
    team_id: 'T0LINKLINE',
    api_app_id: 'A0LINKAPP1',
    type: 'event_callback',
    event_id: eventId,
    event_time: Math.floor(Date.now() / 1000),
    event: {
      type: 'message',
      channel: HANDOFFS,
      channel_type: 'group',
      user: AMY,
      text,
      ts,
      thread_ts: threadTs,
      event_ts: ts,
    },
  };
}

/** The database, but the first statement matching `sql` fails (as a dropped connection would). */
function failingOnce(db: Db, sql: RegExp): Db {
  let armed = true;
  const wrapped: Db = {
    kind: db.kind,
    query: ((text: string, params?: readonly unknown[]) => {
      if (armed && sql.test(text)) {
        armed = false;
        return Promise.reject(new Error('injected: connection terminated'));
      }
      return db.query(text, params);
    }) as Db['query'],
    exec: (text) => db.exec(text),
    transaction: (fn) => db.transaction(fn),
    close: () => db.close(),
  };
  return wrapped;
}

async function handoffThread(db: Db, threadTs = PARENT) {
  const p = await createParticipant(db, { phone: uniquePhone(), firstName: 'Ada' });
  await db.query(
    `INSERT INTO handoffs (participant_id, reason, slack_channel, slack_thread_ts)
     VALUES ($1, 'asked_for_person', $2, $3)`,
    [p.id, HANDOFFS, threadTs],
  );
  return p;
}

async function smsBodies(db: Db, participantId: string): Promise<string[]> {
  const { rows } = await db.query<{ body: string }>(
    `SELECT body FROM messages WHERE participant_id = $1 AND direction = 'out' ORDER BY seq`,
    [participantId],
  );
  return rows.map((r) => r.body);
}

async function processed(db: Db, eventId: string): Promise<boolean> {
  const { rows } = await db.query<{ done: boolean }>(
    'SELECT processed_at IS NOT NULL AS done FROM slack_inbox WHERE id = $1',
    [`event:${eventId}`],
  );
  return rows[0]?.done === true;
}

describe.each(drivers)('thread replies keep their order ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });
  // Checklist 90: the Slack channel logs at trace into memory, leak-checked after each test.
  const logs = useLogWatch(db);
  let fake: SlackFake;
  let locales: Awaited<ReturnType<typeof loadCheckedCatalog>>['locales'];

  beforeAll(async () => {
    fake = await startSlackFake();
    locales = (await loadCheckedCatalog('flows', 'locales')).locales;
    await db().query(`INSERT INTO link_workers (slack_user_id, name) VALUES ($1, 'Amy Hughes')`, [
      AMY,
    ]);
  });
  afterAll(async () => {
    await fake?.stop();
  });

  /** The Slack side alone, on `database`, with a clock `offset()` ms ahead. */
  function channel(database: Db, offset: () => number) {
    const cfg: SlackAppConfig = {
      handoffChannel: HANDOFFS,
      referralsChannel: 'C0REFERRAL',
      repingMinutes: 30,
      urgentRepingMinutes: 10,
      fallbackContact: null,
      staffed: parseStaffed('Mon-Sun 00:00-23:59')!,
      socketMode: false,
      timeoutMs: 2000,
      sandboxApiUrl: null,
    };
    const slack = createSlackChannel({
      db: database,
      cfg,
      token: fake.botToken,
      apiUrl: fake.apiUrl,
      locales,
      defaultLang: 'en',
      tz: 'Europe/London',
      logger: logs.logger,
      now: () => new Date(Date.now() + offset()),
      flowIds: () => [],
    });
    const sends: Effects['sends'] = [];
    slack.wrapSink(async (e) => {
      sends.push(...e.sends);
    });
    return { slack, sends };
  }

  async function failedWith(eventId: string, error: RegExp): Promise<void> {
    await waitFor(async () => {
      const { rows } = await db().query<{ error: string | null }>(
        'SELECT error FROM slack_inbox WHERE id = $1',
        [`event:${eventId}`],
      );
      return error.test(rows[0]?.error ?? '');
    }, 15_000);
  }

  it('the first of two replies fails once on processing, the second arrives after: texted 1 then 2, each once', async () => {
    const p = await handoffThread(db());
    let offsetMs = 0;
    const { slack, sends } = channel(
      // Reply 1's thread lookup fails (after Slack was acked), once.
      failingOnce(db(), /FROM handoffs WHERE slack_channel = \$1 AND slack_thread_ts/),
      () => offsetMs,
    );
    try {
      const one = `EvORDER${++seq}A`;
      const two = `EvORDER${seq}B`;
      expect((await slack.receive(envelope(one, '1765000010.000100', 'reply one'))).status).toBe(
        200,
      );
      // Its processing failed after the ack: stored, not processed.
      await failedWith(one, /injected/);
      expect(await smsBodies(db(), p.id)).toEqual([]);
      // The link worker's next reply, written after the first.
      expect((await slack.receive(envelope(two, '1765000012.000200', 'reply two'))).status).toBe(
        200,
      );
      await waitFor(() => processed(db(), two), 10_000);
      // Whatever retry is left runs (the sweep's, 30 s on).
      offsetMs = 31_000;
      await slack.sweep();
      await waitFor(() => processed(db(), one), 10_000);

      expect(await smsBodies(db(), p.id)).toEqual(['reply one', 'reply two']);
      expect(sends).toHaveLength(2);
      const { rows } = await db().query<{ attempts: number }>(
        'SELECT attempts FROM slack_inbox WHERE id = ANY($1::text[]) ORDER BY id',
        [[`event:${one}`, `event:${two}`]],
      );
      // Reply 1: the failure and its retry. Reply 2: waiting did not use up its attempts.
      expect(rows.map((r) => r.attempts)).toEqual([2, 1]);
    } finally {
      await slack.stop();
    }
  }, 30_000);

  it("the chaos run's trigger: authorization still pending at the 2.5 s ack, then failing; the next reply waits for it", async () => {
    // A fresh process asks Slack auth.test on its first event; under Slack faults it can take
    // longer than the ack wait (the event is acked, 200) and then fail: the event is stored,
    // failed. The link worker's next reply comes a moment later and is authorized at once.
    const p = await handoffThread(db(), '1765000500.000100');
    let offsetMs = 0;
    const { slack } = channel(db(), () => offsetMs);
    fake.inject({ kind: 'hang', method: 'auth.test', times: 2 });
    fake.inject({ kind: '503', method: 'auth.test', times: 1 });
    try {
      const one = `EvAUTH${++seq}A`;
      const two = `EvAUTH${seq}B`;
      const first = await slack.receive(
        envelope(one, '1765000501.000100', 'auth one', '1765000500.000100'),
      );
      expect(first.status).toBe(200);
      await failedWith(one, /Authorization/);
      expect(
        (await slack.receive(envelope(two, '1765000502.000100', 'auth two', '1765000500.000100')))
          .status,
      ).toBe(200);
      await waitFor(() => processed(db(), two), 10_000);
      offsetMs = 31_000;
      await slack.sweep();
      await waitFor(() => processed(db(), one), 10_000);
      expect(await smsBodies(db(), p.id)).toEqual(['auth one', 'auth two']);
    } finally {
      fake.clearFaults();
      await slack.stop();
    }
  }, 40_000);

  describe('the hold (threadReply)', () => {
    const deps = (): SlackDeps =>
      ({
        db: db(),
        now: () => new Date(),
        ephemeral: async () => undefined,
        sink: async () => undefined,
      }) as unknown as SlackDeps;
    const reply = (ts: string, text: string, threadTs: string) => ({
      channel: HANDOFFS,
      threadTs,
      ts,
      user: AMY,
      text,
    });
    /** An earlier event of the thread as the inbox holds it after a failed try. */
    async function stored(
      eventId: string,
      event: Record<string, unknown>,
      fields: { attempts?: number; leaseMs?: number; ageSeconds?: number } = {},
    ) {
      await db().query(
        `INSERT INTO slack_inbox (id, kind, body, attempts, lease_until, received_at, error)
         VALUES ($1, 'event', $2, $3, $4, now() - $5 * interval '1 second', 'failed')`,
        [
          `event:${eventId}`,
          JSON.stringify({ type: 'event_callback', event_id: eventId, event }),
          fields.attempts ?? 1,
          fields.leaseMs === undefined ? null : new Date(Date.now() + fields.leaseMs),
          fields.ageSeconds ?? 1,
        ],
      );
    }
    const message = (threadTs: string, ts: string, extra: Record<string, unknown> = {}) => ({
      type: 'message',
      channel: HANDOFFS,
      user: AMY,
      text: 'earlier',
      ts,
      thread_ts: threadTs,
      ...extra,
    });

    it('holds a reply while an earlier one of its thread is pending; nothing is stored for it', async () => {
      const thread = '1765000100.000100';
      const p = await handoffThread(db(), thread);
      await stored(`EvHOLD${++seq}`, message(thread, '1765000101.000100'));
      await expect(
        threadReply(deps(), reply('1765000102.000100', 'later', thread)),
      ).rejects.toBeInstanceOf(ReplyHeld);
      expect(await smsBodies(db(), p.id)).toEqual([]);
    });

    it('an earlier event being processed elsewhere (its lease, last attempt) holds too', async () => {
      const thread = '1765000200.000100';
      await handoffThread(db(), thread);
      await stored(`EvHOLD${++seq}`, message(thread, '1765000201.000100'), {
        attempts: MAX_ATTEMPTS,
        leaseMs: 30_000,
      });
      await expect(
        threadReply(deps(), reply('1765000202.000100', 'later', thread)),
      ).rejects.toBeInstanceOf(ReplyHeld);
    });

    it('an earlier reply whose SMS is stored (committed, not yet marked processed) holds nothing', async () => {
      const thread = '1765000250.000100';
      const p = await handoffThread(db(), thread);
      expect(await threadReply(deps(), reply('1765000251.000100', 'first', thread))).toBe('sent');
      // Its process is still after the commit (the sink waiting on Redis): lease, not processed.
      await stored(`EvCOMMITTED${++seq}`, message(thread, '1765000251.000100'), {
        leaseMs: 30_000,
      });
      expect(await threadReply(deps(), reply('1765000252.000100', 'second', thread))).toBe('sent');
      expect(await smsBodies(db(), p.id)).toEqual(['first', 'second']);
    });

    it('is bounded: a given-up or too old earlier event, another thread, a later reply, a bot post or an edit hold nothing', async () => {
      const thread = '1765000300.000100';
      const p = await handoffThread(db(), thread);
      await stored(`EvDEAD${++seq}`, message(thread, '1765000301.000100'), {
        attempts: MAX_ATTEMPTS,
      });
      await stored(`EvOLD${seq}`, message(thread, '1765000301.000200'), { ageSeconds: 240 });
      await stored(`EvOTHER${seq}`, message('1765000299.000100', '1765000301.000300'));
      await stored(`EvLATER${seq}`, message(thread, '1765000309.000100'));
      await stored(`EvBOT${seq}`, message(thread, '1765000301.000400', { bot_id: 'B0LINKLINE' }));
      await stored(
        `EvEDIT${seq}`,
        message(thread, '1765000301.000500', { subtype: 'message_changed' }),
      );
      expect(await threadReply(deps(), reply('1765000302.000100', 'goes', thread))).toBe('sent');
      expect(await smsBodies(db(), p.id)).toEqual(['goes']);
    });

    it('a parent post in flight to another channel does not fail a reply in a thread that is no hand-off', async () => {
      const p = await createParticipant(db(), { phone: uniquePhone(), firstName: 'Bo' });
      const {
        rows: [h],
      } = await db().query<{ id: string }>(
        `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
        [p.id],
      );
      await db().query(
        `INSERT INTO slack_outbox (thread_key, handoff_id, op, channel, payload, status)
         VALUES ($1, $2, 'post_parent', 'C0ELSEWHER', '{"text":"x"}', 'sending')`,
        [`handoff:${h!.id}`, h!.id],
      );
      expect(await threadReply(deps(), reply('1765000402.000100', 'hi', '1765000400.000100'))).toBe(
        'ignored',
      );
      // A parent posted to a #name (its id not known until Slack answers) may be this thread's.
      await db().query(`UPDATE slack_outbox SET channel = '#handoffs' WHERE handoff_id = $1`, [
        h!.id,
      ]);
      await expect(
        threadReply(deps(), reply('1765000402.000100', 'hi', '1765000400.000100')),
      ).rejects.toThrow(/not recorded yet/);
      await db().query(`UPDATE slack_outbox SET status = 'sent' WHERE handoff_id = $1`, [h!.id]);
    });
  });
});
