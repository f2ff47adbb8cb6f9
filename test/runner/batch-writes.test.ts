import { DateTime } from 'luxon';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import type { Flow, LocaleSet } from '../../src/engine/index.js';
import type { Effects } from '../../src/runner/effects.js';
import { createRunner } from '../../src/runner/runner.js';
import type { Db } from '../../src/store/db.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';

const pgDriver = drivers.find((d) => d.name === 'pg')!;

/** Counts the statements a runner sends (transactions' BEGIN and COMMIT included). */
function counting(db: Db): { db: Db; statements: () => number } {
  let n = 0;
  const wrap = (h: Db): Db => ({
    kind: h.kind,
    query: (sql, params) => {
      n += 1;
      return h.query(sql, params);
    },
    exec: (sql) => h.exec(sql),
    transaction: (fn) => {
      n += 2;
      return h.transaction((inner) => fn(wrap(inner)));
    },
    close: () => h.close(),
  });
  return { db: wrap(db), statements: () => n };
}

/**
 * The batch path (handleItemBatch, write-buffered: one multi-row INSERT per table) writes
 * exactly the rows the one-at-a-time path (handleItem) writes, whatever each item comes to.
 */
describe('a batch of fired reminders writes what one at a time writes', () => {
  const getDb = useTestDb(pgDriver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let catalog: { flows: Readonly<Record<string, Flow>>; locales: LocaleSet };
  beforeAll(async () => {
    catalog = await loadCheckedCatalog('flows', 'locales');
  });

  function runnerOn(db: Db) {
    const effects: Effects[] = [];
    const runner = createRunner({
      db,
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now: () => new Date(),
      sink: async (e) => {
        effects.push(e);
      },
    });
    return { runner, effects };
  }

  // Both worlds' sessions start at the same time: the texts are the same.
  const startsAt = DateTime.now().startOf('hour').plus({ hours: 20 }).toJSDate();

  async function session(): Promise<string> {
    // One activity per session: an activity has one session at a time.
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at)
       SELECT id, $1, $1::timestamptz + interval '1 hour' FROM a RETURNING id`,
      [startsAt],
    );
    return rows[0]!.id;
  }

  async function person(quiet = { start: '00:00', end: '00:00' }) {
    const p = await createParticipant(getDb(), {
      phone: uniquePhone(),
      quietStart: quiet.start,
      quietEnd: quiet.end,
    });
    await setConsent(getDb(), p.id, 'given', { actor: 'admin:test' });
    return p.id;
  }

  async function reminder(participantId: string) {
    const sid = await session();
    const { rows } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [participantId, sid],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId,
      bookingId: rows[0]!.id,
      sessionId: sid,
      dueAt: new Date(),
    });
    return { itemId: item.id, version: item.version, bookingId: rows[0]!.id };
  }

  /** One world: participants in every situation a reminder meets, and the jobs in order. */
  async function world(quietNow: { start: string; end: string }) {
    const people = {
      free: await person(),
      optedOut: await person(),
      cancelled: await person(),
      inConversation: await person(),
      twice: await person(),
      stale: await person(),
      handedOff: await person(),
      quiet: await person(quietNow),
      another: await person(),
    };
    const jobs = [];
    jobs.push(await reminder(people.free));
    await setOptOut(getDb(), people.optedOut, true, { actor: 'participant' });
    jobs.push(await reminder(people.optedOut));
    const c = await reminder(people.cancelled);
    await getDb().query(`UPDATE bookings SET status = 'cancelled' WHERE id = $1`, [c.bookingId]);
    jobs.push(c);
    // A conversation waiting with its timers (an earlier reminder), interrupted by this one.
    const earlier = await reminder(people.inConversation);
    const { runner } = runnerOn(getDb());
    expect(await runner.handleItem(earlier.itemId, earlier.version)).toBe('fired');
    jobs.push(await reminder(people.inConversation));
    const first = await reminder(people.twice);
    jobs.push(first);
    const s = await reminder(people.stale);
    await getDb().query('UPDATE scheduled_items SET version = version + 1 WHERE id = $1', [
      s.itemId,
    ]);
    jobs.push(s);
    const h = await reminder(people.handedOff);
    const before = await reminder(people.handedOff);
    expect(await runner.handleItem(before.itemId, before.version)).toBe('fired');
    await getDb().query(
      `UPDATE conversation_sessions SET status = 'handed_off' WHERE participant_id = $1 AND status <> 'ended'`,
      [people.handedOff],
    );
    jobs.push(h);
    jobs.push(await reminder(people.quiet));
    // The same participant's second item, after another participant's.
    jobs.push(await reminder(people.another));
    jobs.push(await reminder(people.twice));
    return { people: Object.values(people), jobs, first };
  }

  /** Everything written for a participant, without ids and times that differ between worlds. */
  async function written(participantIds: readonly string[]) {
    const db = getDb();
    const out = [];
    for (const pid of participantIds) {
      const convs = await db.query(
        `SELECT flow_id, status, version, ended_at IS NULL AS live,
           state->>'status' AS engine_status, state->'context'->'booking'->>'status' AS booking
         FROM conversation_sessions WHERE participant_id = $1 ORDER BY 1, 2, 3, 4, 5, 6`,
        [pid],
      );
      const msgs = await db.query(
        `SELECT m.direction, m.status, m.skip_reason, m.channel, m.address IS NOT NULL AS addressed,
           m.body, m.encoding, m.segments, m.template_key, m.kind, m.priority,
           c.flow_id AS conversation_flow, c.status AS conversation_status
         FROM messages m LEFT JOIN conversation_sessions c ON c.id = m.conversation_session_id
         WHERE m.participant_id = $1 ORDER BY m.seq`,
        [pid],
      );
      const items = await db.query(
        `SELECT s.kind, s.state, s.skip_reason, s.version, s.fired_at IS NULL AS unfired,
           s.payload ? 'wait_id' AS has_wait, c.status AS conversation_status,
           round(extract(epoch FROM s.due_at - now()) / 3600) AS due_in_hours
         FROM scheduled_items s LEFT JOIN conversation_sessions c ON c.id = s.conversation_session_id
         WHERE s.participant_id = $1 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8`,
        [pid],
      );
      const audit = await db.query(
        'SELECT kind, actor FROM audit_events WHERE participant_id = $1 ORDER BY id',
        [pid],
      );
      out.push({ convs: convs.rows, msgs: msgs.rows, items: items.rows, audit: audit.rows });
    }
    return out;
  }

  const shape = (effects: Effects[]) => ({
    sends: effects.flatMap((e) => e.sends).length,
    items: effects.flatMap((e) => e.items).map((i) => `${i.kind}:${i.version}:${i.state}`),
    cancelled: effects.flatMap((e) => e.cancelledJobs).length,
  });

  it('mixed outcomes: the same rows, outcomes and effects', async () => {
    const now = DateTime.now().setZone('Europe/London');
    // Quiet hours around now: the reminder fired late into them waits for their end.
    const quietNow = {
      start: now.minus({ hours: 1 }).toFormat('HH:mm'),
      end: now.plus({ hours: 1 }).toFormat('HH:mm'),
    };
    const one = await world(quietNow);
    const many = await world(quietNow);
    const single = runnerOn(getDb());
    const outcomesOne = [];
    for (const j of one.jobs) outcomesOne.push(await single.runner.handleItem(j.itemId, j.version));
    const batch = runnerOn(getDb());
    const outcomesMany = await batch.runner.handleItemBatch(many.jobs);
    expect(outcomesMany).toEqual(outcomesOne);
    expect(outcomesOne).toEqual([
      'fired',
      'skipped',
      'skipped',
      'fired',
      'fired',
      'stale',
      'skipped',
      'skipped',
      'fired',
      'fired',
    ]);
    expect(shape(batch.effects)).toEqual(shape(single.effects));
    const a = await written(one.people);
    const b = await written(many.people);
    expect(b).toEqual(a);
    // The worlds did something: a sent reminder, and the twice-reminded interrupted the first.
    expect(a[0]!.msgs).toHaveLength(1);
    expect(a[4]!.convs.map((c) => c.status)).toEqual(['ended', 'waiting']);
  });

  it('a batch sends a fixed number of statements, whatever its size', async () => {
    const statementsFor = async (size: number) => {
      const jobs = [];
      for (let i = 0; i < size; i++) jobs.push(await reminder(await person()));
      const c = counting(getDb());
      const { runner } = runnerOn(c.db);
      expect(await runner.handleItemBatch(jobs)).toEqual(jobs.map(() => 'fired'));
      return c.statements();
    };
    const small = await statementsFor(3);
    const large = await statementsFor(24);
    expect(large).toBe(small);
    // BEGIN, the rows locked, participants, bookings, conversations, three INSERTs, the
    // items moved on, COMMIT.
    expect(large).toBe(10);
  });
});
