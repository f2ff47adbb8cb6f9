import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { defaultRules } from '../../src/runner/rules/index.js';
import { createRunner } from '../../src/runner/runner.js';
import type { Db, QueryResult } from '../../src/store/db.js';
import { createParticipant, setConsent } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, sleep, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { useLogWatch } from '../support/pipeline.js';

const driver = drivers.find((d) => d.name === 'pg')!;

/** The statement with which "2 can't make it" (cancelBooking) locks the booking's session row. */
const SESSION_LOCK = /FROM sessions WHERE id = \$1 FOR UPDATE/;

/** One top-level transaction of the gated Db: its backend, and how far it got. */
interface Tx {
  pid: number;
  /** It has taken its first session lock and waits at the meeting point. */
  met: boolean;
  done: boolean;
  /** The sessions it locked, in order. */
  sessions: string[];
}

/**
 * Wraps a Db so that every transaction, right after its FIRST session row lock, waits until
 * each of the other `parties` transactions has taken its own first session lock too, or is
 * blocked on a lock (pg_blocking_pids, seen from an observer connection), or has finished.
 * Two batches that take their session locks in opposite orders then both hold their first
 * one before either asks for its second: the deadlock is certain, not a matter of timing.
 * Batches that take them in one order just queue (the second is blocked, the first goes on).
 */
function meetingAtFirstSessionLock(db: Db, observer: pg.Client, parties: number) {
  const txs: Tx[] = [];
  async function meet(me: Tx): Promise<void> {
    me.met = true;
    for (;;) {
      const others = txs.filter((t) => t !== me);
      let ready = others.length >= parties - 1;
      for (const o of others) {
        if (!ready) break;
        if (o.met || o.done) continue;
        const { rows } = await observer.query<{ blocked: boolean }>(
          'SELECT cardinality(pg_blocking_pids($1)) > 0 AS blocked',
          [o.pid],
        );
        ready = rows[0]!.blocked;
      }
      if (ready) return;
      await sleep(5);
    }
  }
  function wrap(tx: Db, me: Tx): Db {
    return {
      kind: tx.kind,
      async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
        const result = await tx.query<T>(sql, params);
        if (SESSION_LOCK.test(sql)) {
          me.sessions.push(String(params?.[0]));
          if (!me.met) await meet(me);
        }
        return result;
      },
      exec: (sql) => tx.exec(sql),
      transaction: (fn) => tx.transaction((sp) => fn(wrap(sp, me))),
      close: () => tx.close(),
    };
  }
  const gated: Db = {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        const me: Tx = { pid: rows[0]!.pid, met: false, done: false, sessions: [] };
        txs.push(me);
        try {
          return await fn(wrap(tx, me));
        } finally {
          me.done = true;
        }
      }),
  };
  return { db: gated, txs };
}

describe('inbound batches that cancel bookings on shared sessions (deadlock)', () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let catalog: Awaited<ReturnType<typeof loadCheckedCatalog>>;
  let observer: pg.Client;
  let activityId: string;
  beforeAll(async () => {
    catalog = await loadCheckedCatalog('flows', 'locales');
    observer = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await observer.connect();
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id`,
    );
    activityId = rows[0]!.id;
  });
  afterAll(async () => {
    await observer?.end();
  });

  function runner(db: Db, logger = logs.logger) {
    const now = () => new Date();
    return createRunner({
      db,
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger,
      now,
      sink: async () => {},
      rules: defaultRules({ locales: catalog.locales, defaultLang: 'en', logger, now }),
    });
  }

  let hour = 20;
  async function session(): Promise<string> {
    hour += 1;
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at)
       VALUES ($1, now() + $2 * interval '1 hour', now() + ($2 + 1) * interval '1 hour') RETURNING id`,
      [activityId, hour],
    );
    return rows[0]!.id;
  }

  /** Someone booked onto `sessionId` whose day-before reminder has fired: it waits for 1/2/3. */
  async function reminded(sessionId: string) {
    const phone = uniquePhone();
    const participant = await createParticipant(getDb(), {
      phone,
      quietStart: '00:00',
      quietEnd: '00:00',
    });
    await setConsent(getDb(), participant.id, 'given', { actor: 'admin:test' });
    const { rows } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [participant.id, sessionId],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: participant.id,
      bookingId: rows[0]!.id,
      sessionId,
      dueAt: new Date(),
    });
    expect(await runner(getDb()).handleItem(item.id, item.version)).toBe('fired');
    return { phone, bookingId: rows[0]!.id };
  }

  const text = async (phone: string, body: string) =>
    (
      await acceptInbound(getDb(), {
        sid: `SM${randomBytes(16).toString('hex')}`,
        from: phone,
        body,
        numMedia: 0,
        segments: 1,
      })
    ).messageId;

  const bookingStatus = async (id: string) =>
    (await getDb().query<{ status: string }>('SELECT status FROM bookings WHERE id = $1', [id]))
      .rows[0]?.status;

  it('two batches with "2 can\'t make it" on two sessions, given in opposite orders: both commit, no deadlock, sessions locked in one order', async () => {
    const [lo, hi] = [await session(), await session()].sort();
    const a1 = await reminded(lo!);
    const a2 = await reminded(hi!);
    const b1 = await reminded(lo!);
    const b2 = await reminded(hi!);
    // Batch A's texts are about the sessions in ascending order, batch B's in descending.
    const batchA = [await text(a1.phone, '2'), await text(a2.phone, '2')];
    const batchB = [await text(b2.phone, '2'), await text(b1.phone, '2')];

    const { logger, output } = capturedLogger('warn');
    const gate = meetingAtFirstSessionLock(getDb(), observer, 2);
    const r = runner(gate.db, logger);
    const outcomes = await Promise.all([
      r.handleInboundBatch(batchA),
      r.handleInboundBatch(batchB),
    ]);

    // Neither batch failed (a deadlock rolls one back and sends its texts alone).
    expect(output()).not.toContain('inbound batch failed');
    expect(output()).not.toContain('deadlock');
    expect(outcomes).toEqual([
      ['done', 'done'],
      ['done', 'done'],
    ]);
    // Each batch took the session locks in ascending id order, whatever order its texts came in.
    expect(gate.txs).toHaveLength(2);
    for (const t of gate.txs) expect(t.sessions).toEqual([lo, hi]);
    for (const b of [a1, a2, b1, b2]) expect(await bookingStatus(b.bookingId)).toBe('cancelled');
  });

  it("runs a batch's turns by the session their conversation is about, the others after, each participant's texts in their order", async () => {
    const [lo, hi] = [await session(), await session()].sort();
    const x = await reminded(hi!);
    const y = await reminded(lo!);
    const z = { phone: uniquePhone() };
    // x's texts, handled one at a time by someone in the same place, give the replies to expect.
    const control = await reminded(hi!);
    for (const body of ['1', 'HELP'])
      await runner(getDb()).handleInbound(await text(control.phone, body));

    const ids = [
      await text(z.phone, 'hello'),
      await text(x.phone, '1'),
      await text(y.phone, '2'),
      await text(x.phone, 'HELP'),
    ];
    const { logger, output } = capturedLogger('warn');
    expect(await runner(getDb(), logger).handleInboundBatch(ids)).toEqual([
      'done',
      'done',
      'done',
      'done',
    ]);
    expect(output()).not.toContain('inbound batch failed');
    // The replies were written in the order the turns ran (seq): the lower session's first.
    const { rows } = await getDb().query<{ address: string; body: string }>(
      `SELECT address, body FROM messages
       WHERE direction = 'out' AND address = ANY($1::text[]) AND kind <> 'reminder' ORDER BY seq`,
      [[x.phone, y.phone, z.phone]],
    );
    expect(rows.map((m) => m.address)).toEqual([y.phone, x.phone, x.phone, z.phone]);
    const { rows: expected } = await getDb().query<{ body: string }>(
      `SELECT body FROM messages WHERE direction = 'out' AND address = $1 AND kind <> 'reminder'
       ORDER BY seq`,
      [control.phone],
    );
    expect(expected).toHaveLength(2);
    expect(rows.filter((m) => m.address === x.phone).map((m) => m.body)).toEqual(
      expected.map((m) => m.body),
    );
    expect(await bookingStatus(y.bookingId)).toBe('cancelled');
    expect(await bookingStatus(x.bookingId)).toBe('confirmed');
  });
});
