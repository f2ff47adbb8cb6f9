import { describe, expect, it } from 'vitest';
import type { SlackDeps } from '../../../src/channels/slack/deps.js';
import { threadReply } from '../../../src/channels/slack/handoff-actions.js';
import type { Effects } from '../../../src/runner/effects.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';

// A link worker can answer a hand-off thread the moment it appears in Slack, before the
// outbox has stored the parent's ts. That reply must not be dropped as "not a hand-off".

const AMY = 'U0LWAMY001';
const CHANNEL = 'C0HANDOFFS';
const TS = '1765000000.000100';

describe.each(drivers)('a reply racing the parent post ($name)', (driver) => {
  const db = useTestDb(driver, { migrated: true });

  it('fails (to be retried) while the parent post is in flight, then sends exactly once', async () => {
    await db().query(`INSERT INTO link_workers (slack_user_id, name) VALUES ($1, 'Amy')`, [AMY]);
    const p = await createParticipant(db(), { phone: uniquePhone(), firstName: 'Ada' });
    const {
      rows: [h],
    } = await db().query<{ id: string }>(
      `INSERT INTO handoffs (participant_id, reason) VALUES ($1, 'asked_for_person') RETURNING id`,
      [p.id],
    );
    const {
      rows: [o],
    } = await db().query<{ id: string }>(
      `INSERT INTO slack_outbox (thread_key, handoff_id, op, channel, payload, status)
       VALUES ($1, $2, 'post_parent', $3, '{"text":"x"}', 'sending') RETURNING id`,
      [`handoff:${h!.id}`, h!.id, CHANNEL],
    );
    const sends: Effects['sends'] = [];
    const deps = {
      db: db(),
      now: () => new Date(),
      ephemeral: async () => undefined,
      sink: async (e: Effects) => {
        sends.push(...e.sends);
      },
    } as unknown as SlackDeps;
    const reply = {
      channel: CHANNEL,
      threadTs: TS,
      ts: '1765000001.000200',
      user: AMY,
      text: 'Hi Ada',
    };

    await expect(threadReply(deps, reply)).rejects.toThrow(/not recorded yet/);
    expect(sends).toHaveLength(0);

    // The outbox stores the parent's ts and finishes; the inbox sweep runs the event again.
    await db().query(`UPDATE handoffs SET slack_channel = $2, slack_thread_ts = $3 WHERE id = $1`, [
      h!.id,
      CHANNEL,
      TS,
    ]);
    await db().query(`UPDATE slack_outbox SET status = 'sent', slack_ts = $2 WHERE id = $1`, [
      o!.id,
      TS,
    ]);
    expect(await threadReply(deps, reply)).toBe('sent');
    expect(await threadReply(deps, reply)).toBe('sent');
    const { rows } = await db().query<{ n: number }>(
      `SELECT count(*)::int AS n FROM messages WHERE participant_id = $1 AND direction = 'out'`,
      [p.id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('a reply in a thread that is no hand-off, with nothing in flight, is ignored', async () => {
    const deps = { db: db(), ephemeral: async () => undefined, sink: async () => undefined };
    const out = await threadReply(deps as unknown as SlackDeps, {
      channel: CHANNEL,
      threadTs: '1765000009.000900',
      ts: '1765000010.000100',
      user: AMY,
      text: 'hello',
    });
    expect(out).toBe('ignored');
  });
});
