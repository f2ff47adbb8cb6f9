import { describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { bookingContext } from '../../src/runner/context.js';
import type { Effects } from '../../src/runner/effects.js';
import { createRunner } from '../../src/runner/runner.js';
import { triggerFlow } from '../../src/runner/triggers.js';
import type { Db } from '../../src/store/db.js';
import { createParticipant } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const catalog = await loadCheckedCatalog('flows', 'locales');

async function one<T>(db: Db, sql: string, params: unknown[]): Promise<T> {
  const { rows } = await db.query<T>(sql, params);
  return rows[0]!;
}

describe('flows started from outside a conversation (missed session, next session)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  const effects: Effects[] = [];
  const deps = () => {
    const db = getDb();
    const sink = async (e: Effects) => {
      effects.push(e);
    };
    const runner = createRunner({
      db,
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now: () => new Date(),
      sink,
    });
    return { db, runner, sink, logger: logs.logger };
  };

  /** A consented participant with bookings on an activity's sessions, days from now. */
  async function setup(statuses: [number, string][], consent = true) {
    const db = getDb();
    const p = await createParticipant(db, { phone: uniquePhone() });
    if (consent)
      await db.query(
        "UPDATE participants SET consent = 'given', consent_at = now() WHERE id = $1",
        [p.id],
      );
    const a = await one<{ id: string }>(
      db,
      "INSERT INTO activities (name, location) VALUES ('Walking football', 'Moss Side') RETURNING id",
      [],
    );
    const bookings: string[] = [];
    for (const [days, status] of statuses) {
      const s = await one<{ id: string }>(
        db,
        `INSERT INTO sessions (activity_id, starts_at, ends_at)
         VALUES ($1, now() + make_interval(days => $2), now() + make_interval(days => $2, hours => 1)) RETURNING id`,
        [a.id, days],
      );
      const b = await one<{ id: string }>(
        db,
        'INSERT INTO bookings (participant_id, session_id, status) VALUES ($1, $2, $3) RETURNING id',
        [p.id, s.id, status],
      );
      bookings.push(b.id);
    }
    return { p, bookings };
  }

  const outbound = async (pid: string) =>
    (
      await getDb().query<{ body: string }>(
        "SELECT body FROM messages WHERE participant_id = $1 AND direction = 'out' ORDER BY seq",
        [pid],
      )
    ).rows.map((r) => r.body);

  it('a second miss in a row: "we missed you" goes and the link worker gets a task', async () => {
    const { p, bookings } = await setup([
      [-8, 'absent'],
      [-1, 'absent'],
    ]);
    const why = await triggerFlow(deps(), {
      participantId: p.id,
      flowId: 'missed_session',
      bookingId: bookings[1]!,
    });
    expect(why).toBeUndefined();
    expect(await outbound(p.id)).toEqual([
      expect.stringMatching(/^We missed you at Walking football today\. Hope you're OK\./),
    ]);
    const h = await getDb().query<{ reason: string; urgency: string }>(
      'SELECT reason, urgency FROM handoffs WHERE participant_id = $1',
      [p.id],
    );
    expect(h.rows).toEqual([{ reason: 'missed_twice', urgency: 'normal' }]);
    const conv = await getDb().query<{ status: string }>(
      "SELECT status FROM conversation_sessions WHERE participant_id = $1 AND status <> 'ended'",
      [p.id],
    );
    expect(conv.rows).toEqual([{ status: 'waiting' }]);
  });

  it('a first miss: no task', async () => {
    const { p, bookings } = await setup([
      [-8, 'attended'],
      [-1, 'absent'],
    ]);
    await triggerFlow(deps(), {
      participantId: p.id,
      flowId: 'missed_session',
      bookingId: bookings[1]!,
    });
    expect(await outbound(p.id)).toHaveLength(1);
    const h = await getDb().query('SELECT 1 FROM handoffs WHERE participant_id = $1', [p.id]);
    expect(h.rows).toHaveLength(0);
  });

  it('the booking context carries the next session and the misses in a row', async () => {
    const { p, bookings } = await setup([
      [-1, 'absent'],
      [2, 'booked'],
      [9, 'booked'],
    ]);
    const ctx = await bookingContext(getDb(), bookings[1]!, 'Europe/London');
    expect(ctx?.booking).toMatchObject({
      misses_in_row: 0,
      next_time: expect.stringMatching(/^\d\d:\d\d$/),
    });
    expect(ctx?.booking.next_weekday).toBeGreaterThanOrEqual(1);
    expect(ctx?.session.day_month).toMatch(/^\d{1,2}\/\d{1,2}$/);
    const last = await bookingContext(getDb(), bookings[2]!, 'Europe/London');
    expect(last?.booking).not.toHaveProperty('next_time');
    const missed = await bookingContext(getDb(), bookings[0]!, 'Europe/London');
    expect(missed?.booking.misses_in_row).toBe(1);
    expect(p.id).toBeTruthy();
  });

  it('nothing for someone opted out or without consent', async () => {
    const { p, bookings } = await setup([[-1, 'absent']], false);
    expect(
      await triggerFlow(deps(), {
        participantId: p.id,
        flowId: 'missed_session',
        bookingId: bookings[0]!,
      }),
    ).toBe('no_consent');
    await getDb().query(
      "UPDATE participants SET consent = 'given', consent_at = now(), opted_out = true, opted_out_at = now() WHERE id = $1",
      [p.id],
    );
    expect(
      await triggerFlow(deps(), {
        participantId: p.id,
        flowId: 'missed_session',
        bookingId: bookings[0]!,
      }),
    ).toBe('opted_out');
    expect(await outbound(p.id)).toEqual([]);
  });
});
