import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { computeReport } from '../../src/reports/figures.js';
import { periodOf } from '../../src/reports/period.js';
import type { Db } from '../../src/store/db.js';
import { applyRetention, retentionCutoff } from '../../src/store/repos/retention.js';
import { FROM, NOW as REPORT_NOW, seedWorld, TO, ZONE } from '../reports/world.js';
import { drivers, uniquePhone, useTestDb } from './drivers.js';

/** The fixed clock: with 12 months, content before 2026-06-15T12:00Z is past the period. */
const NOW = new Date('2027-06-15T12:00:00Z');
const MONTHS = 12;
const OLD = '2026-01-10T10:00:00Z';
const RECENT = '2026-09-01T10:00:00Z';

let refs = 0;

/** A participant with content at `at`: texts in and out, an answer, a conversation, a drop-in. */
async function personWithContent(db: Db, at: string): Promise<string> {
  refs += 1;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO participants (ref, phone, first_name, created_at) VALUES ($1, $2, 'Olive', $3)
     RETURNING id`,
    [`P-R${String(refs).padStart(3, '0')}`, uniquePhone(), new Date(OLD)],
  );
  const id = rows[0]!.id;
  const when = new Date(at);
  await db.query('INSERT INTO referrals (participant_id, route, referred_at) VALUES ($1, $2, $3)', [
    id,
    'self',
    new Date(OLD),
  ]);
  const convo = await db.query<{ id: string }>(
    `INSERT INTO conversation_sessions (participant_id, flow_id, status, state, started_at, ended_at)
     VALUES ($1, 'intake', 'ended', '{"vars":{"story":"my story"}}', $2, $2) RETURNING id`,
    [id, when],
  );
  await db.query(
    `INSERT INTO messages (direction, channel, participant_id, conversation_session_id, address,
       status, body, created_at)
     VALUES ('in', 'sms', $1, $2, '+447700900555', 'received', 'my story', $3),
            ('out', 'sms', $1, $2, '+447700900555', 'delivered', 'thanks Olive', $3)`,
    [id, convo.rows[0]!.id, when],
  );
  await db.query(
    `INSERT INTO answers (participant_id, question, value, score, collected_at, collected_via)
     VALUES ($1, 'ons4_life_satisfaction', 'seven', 7, $2, 'sms')`,
    [id, when],
  );
  const session = await db.query<{ id: string }>(
    `INSERT INTO sessions (activity_id, starts_at, ends_at)
     VALUES ((SELECT id FROM activities LIMIT 1), $1, $1::timestamptz + interval '1 hour')
     RETURNING id`,
    [new Date(new Date(OLD).getTime() - 86_400_000 * refs)],
  );
  await db.query(
    `INSERT INTO session_drop_ins (session_id, first_name, participant_id, added_by, created_at)
     VALUES ($1, 'Olive', $2, 'lead:U1', $3)`,
    [session.rows[0]!.id, id, new Date(OLD)],
  );
  return id;
}

async function contentOf(db: Db, id: string) {
  const q = async (sql: string) => (await db.query(sql, [id])).rows;
  return {
    messages: await q(
      'SELECT body, address, status FROM messages WHERE participant_id = $1 ORDER BY direction',
    ),
    answers: await q('SELECT value, score FROM answers WHERE participant_id = $1'),
    conversations: await q(
      'SELECT state, status FROM conversation_sessions WHERE participant_id = $1',
    ),
    dropIns: await q('SELECT first_name FROM session_drop_ins WHERE participant_id = $1'),
    person: await q(
      'SELECT first_name, phone IS NOT NULL AS phone FROM participants WHERE id = $1',
    ),
  };
}

const SCRUBBED = {
  messages: [
    { body: null, address: null, status: 'received' },
    { body: null, address: null, status: 'delivered' },
  ],
  answers: [{ value: null, score: 7 }],
  conversations: [{ state: {}, status: 'ended' }],
  dropIns: [{ first_name: null }],
  // The person stays (retention removes content; erasure removes the person).
  person: [{ first_name: 'Olive', phone: true }],
};

async function retentionAudits(db: Db) {
  const { rows } = await db.query<{ detail: Record<string, unknown>; participant_id: null }>(
    `SELECT detail, participant_id FROM audit_events WHERE kind = 'retention.applied' ORDER BY id`,
  );
  return rows;
}

describe.each(drivers)('retention on $name (checklist 89)', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    const db = getDb();
    await db.query(`INSERT INTO activities (name) VALUES ('Walk')`);
    // Ended 17 months before NOW: past the period.
    ids.ended = await personWithContent(db, OLD);
    ids.endedToo = await personWithContent(db, OLD);
    // Last activity 9 months before NOW: within the period.
    ids.recent = await personWithContent(db, RECENT);
    // Old content, but still in touch: an open hand-off.
    ids.handoff = await personWithContent(db, OLD);
    await db.query(
      `INSERT INTO handoffs (participant_id, reason, opened_at) VALUES ($1, 'asked_for_person', $2)`,
      [ids.handoff, new Date(OLD)],
    );
    // Old content, but a check-in still to come.
    ids.timer = await personWithContent(db, OLD);
    await db.query(
      `INSERT INTO scheduled_items (item_key, kind, participant_id, due_at)
       VALUES ('checkin:retention-test', 'checkin', $1, $2)`,
      [ids.timer, new Date('2027-07-01T10:00:00Z')],
    );
    // Old content, but a text last month.
    ids.texted = await personWithContent(db, OLD);
    await db.query(
      `INSERT INTO messages (direction, channel, participant_id, address, status, body, created_at)
       VALUES ('in', 'sms', $1, '+447700900556', 'received', 'hello again', $2)`,
      [ids.texted, new Date('2027-05-20T10:00:00Z')],
    );
    // Buffers, old and recent.
    for (const at of [OLD, RECENT]) {
      await db.query(
        `INSERT INTO inbound_raw (provider_sid, form, received_at) VALUES ($1, $2, $3)`,
        [
          `SM-raw-${at}`,
          JSON.stringify({ From: '+447700900555', Body: 'raw story' }),
          new Date(at),
        ],
      );
      await db.query(
        `INSERT INTO slack_outbox (thread_key, op, channel, payload, status, created_at)
         VALUES ($1, 'post', 'C0HANDOFFS', '{"text":"Olive said: my story"}', 'sent', $2)`,
        [`retention:${at}`, new Date(at)],
      );
      await db.query(
        `INSERT INTO slack_inbox (id, kind, body, received_at, attempts)
         VALUES ($1, 'event', '{"event":{"text":"a note"}}', $2, 5)`,
        [`event:retention-${at}`, new Date(at)],
      );
    }
    // An old post not sent yet keeps its text (the outbox still needs it).
    await db.query(
      `INSERT INTO slack_outbox (thread_key, op, channel, payload, status, created_at)
       VALUES ('retention:queued', 'post', 'C0HANDOFFS', '{"text":"still to post"}', 'queued', $1)`,
      [new Date(OLD)],
    );
  });

  it('the cutoff is the period in calendar months before now', () => {
    expect(retentionCutoff(NOW, 12).toISOString()).toBe('2026-06-15T12:00:00.000Z');
    expect(retentionCutoff(new Date('2027-03-31T00:00:00Z'), 1).toISOString()).toBe(
      '2027-02-28T00:00:00.000Z',
    );
  });

  it('removes content past the period for ended participants, keeps the rest, audits counts', async () => {
    const db = getDb();
    const untouched = {
      recent: await contentOf(db, ids.recent!),
      handoff: await contentOf(db, ids.handoff!),
      timer: await contentOf(db, ids.timer!),
      texted: await contentOf(db, ids.texted!),
    };
    const counts = await applyRetention(db, { now: NOW, months: MONTHS });
    expect(counts).toEqual({
      participants: 2,
      messages: 4,
      answers: 2,
      conversations: 2,
      dropIns: 2,
      inboundRaw: 1,
      slackOutbox: 1,
      slackInbox: 1,
    });
    expect(await contentOf(db, ids.ended!)).toEqual(SCRUBBED);
    expect(await contentOf(db, ids.endedToo!)).toEqual(SCRUBBED);
    for (const [key, before] of Object.entries(untouched))
      expect(await contentOf(db, ids[key]!), key).toEqual(before);
    expect(untouched.recent.messages[0]).toMatchObject({ body: 'my story' });

    const raw = await db.query<{ provider_sid: string }>('SELECT provider_sid FROM inbound_raw');
    expect(raw.rows).toEqual([{ provider_sid: `SM-raw-${RECENT}` }]);
    const outbox = await db.query<{ thread_key: string; payload: unknown }>(
      'SELECT thread_key, payload FROM slack_outbox ORDER BY thread_key',
    );
    expect(outbox.rows).toEqual([
      { thread_key: `retention:${OLD}`, payload: {} },
      { thread_key: `retention:${RECENT}`, payload: { text: 'Olive said: my story' } },
      { thread_key: 'retention:queued', payload: { text: 'still to post' } },
    ]);
    const inbox = await db.query('SELECT id, body IS NULL AS cleared FROM slack_inbox ORDER BY id');
    expect(inbox.rows).toEqual([
      { id: `event:retention-${OLD}`, cleared: true },
      { id: `event:retention-${RECENT}`, cleared: false },
    ]);

    const audits = await retentionAudits(db);
    expect(audits.map((a) => a.participant_id)).toEqual([null, null]);
    expect(audits[0]?.detail).toEqual({
      participants: 2,
      messages: 4,
      answers: 2,
      conversations: 2,
      dropIns: 2,
      cutoff: '2026-06-15T12:00:00.000Z',
      months: 12,
    });
    expect(audits[1]?.detail).toMatchObject({ inboundRaw: 1, slackOutbox: 1, slackInbox: 1 });
    expect(JSON.stringify(audits)).not.toMatch(/story|Olive|\+44|P-R/);
  });

  it('running again removes nothing and writes no audit row', async () => {
    const db = getDb();
    const audits = (await retentionAudits(db)).length;
    const again = await applyRetention(db, { now: NOW, months: MONTHS });
    expect(Object.values(again).every((n) => n === 0)).toBe(true);
    expect((await retentionAudits(db)).length).toBe(audits);
  });

  it('two runs at once (two worker processes) remove each thing once, between them', async () => {
    const db = getDb();
    const a = await personWithContent(db, OLD);
    const b = await personWithContent(db, OLD);
    const runs = await Promise.all([
      applyRetention(db, { now: NOW, months: MONTHS }),
      applyRetention(db, { now: NOW, months: MONTHS }),
    ]);
    expect(runs[0].messages + runs[1].messages).toBe(4);
    expect(runs[0].answers + runs[1].answers).toBe(2);
    expect(await contentOf(db, a)).toEqual(SCRUBBED);
    expect(await contentOf(db, b)).toEqual(SCRUBBED);
  });

  it('a longer period keeps what 12 months would remove', async () => {
    const db = getDb();
    const c = await personWithContent(db, OLD);
    const before = await contentOf(db, c);
    await applyRetention(db, { now: NOW, months: 24 });
    expect(await contentOf(db, c)).toEqual(before);
  });
});

describe.each(drivers)('retention and the report on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: true });

  it('every report figure is the same before and after the content is removed', async () => {
    const db = getDb();
    const ids = await seedWorld(db);
    // Texts for everyone in the world, on the day of their first referral.
    for (const id of Object.values(ids))
      await db.query(
        `INSERT INTO messages (direction, channel, participant_id, address, status, body, created_at)
         SELECT 'in', 'sms', p.id, p.phone, 'received', 'I would like to join', min(r.referred_at)
         FROM participants p JOIN referrals r ON r.participant_id = p.id WHERE p.id = $1
         GROUP BY p.id, p.phone`,
        [id],
      );
    const march = () => computeReport(db, periodOf(FROM, TO, ZONE), REPORT_NOW);
    const before = await march();
    // The world's last activity is April 2026, but its bookings are stamped by the
    // database's now() (booked_at, updated_at): retention runs 13 months after the seeding.
    const later = DateTime.utc().plus({ months: 13 }).toJSDate();
    const counts = await applyRetention(db, { now: later, months: 12 });
    expect(counts.participants).toBe(Object.keys(ids).length);
    expect(counts.answers).toBeGreaterThan(0);
    const left = await db.query(
      'SELECT count(*)::int AS n FROM messages WHERE body IS NOT NULL OR address IS NOT NULL',
    );
    expect(left.rows).toEqual([{ n: 0 }]);
    expect(await march()).toEqual(before);
  });
});
