import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enqueueItems } from '../../src/scheduler/sink.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../store/drivers.js';
import { type Pipeline, startPipeline, waitFor } from '../support/pipeline.js';

const pgDriver = drivers.find((d) => d.name === 'pg')!;

/** Group commit of fired reminders (runner.handleItemBatch and the reminders worker). */
describe('reminders fired in a batch, one transaction', () => {
  const getDb = useTestDb(pgDriver, { migrated: true });
  let p: Pipeline;
  let activityId: string;
  let hour = 20;
  beforeAll(async () => {
    p = await startPipeline(getDb());
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO activities (name, location) VALUES ('Art Club', 'the Library') RETURNING id`,
    );
    activityId = rows[0]!.id;
  });
  afterAll(async () => p.close());

  async function session(): Promise<string> {
    hour += 1;
    const { rows } = await getDb().query<{ id: string }>(
      `INSERT INTO sessions (activity_id, starts_at, ends_at)
       VALUES ($1, now() + $2 * interval '1 hour', now() + ($2 + 1) * interval '1 hour') RETURNING id`,
      [activityId, hour],
    );
    return rows[0]!.id;
  }

  async function person() {
    const phone = uniquePhone();
    const participant = await createParticipant(getDb(), {
      phone,
      quietStart: '00:00',
      quietEnd: '00:00',
    });
    await setConsent(getDb(), participant.id, 'given', { actor: 'admin:test' });
    return { phone, participant };
  }

  /**
   * A reminder row (not queued). By default due in 2 hours, beyond the reconciler's one-hour
   * horizon: the tests that fire rows by hand must not race the every-minute reconciler,
   * which would queue a row due now and let the pipeline's worker fire it first.
   */
  async function reminder(
    participantId: string,
    sessionId?: string,
    dueAt = new Date(Date.now() + 2 * 3_600_000),
  ) {
    const sid = sessionId ?? (await session());
    const { rows } = await getDb().query<{ id: string }>(
      'INSERT INTO bookings (participant_id, session_id) VALUES ($1, $2) RETURNING id',
      [participantId, sid],
    );
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId,
      bookingId: rows[0]!.id,
      sessionId: sid,
      dueAt,
    });
    return item;
  }

  const ref = (i: { id: string; version: number }) => ({ itemId: i.id, version: i.version });
  const state = async (id: string) =>
    (
      await getDb().query<{ state: string; skip_reason: string | null }>(
        'SELECT state, skip_reason FROM scheduled_items WHERE id = $1',
        [id],
      )
    ).rows[0];
  const outbox = async (participantId: string) =>
    (
      await getDb().query<{ id: string; seq: number; conversation_session_id: string }>(
        `SELECT id, seq, conversation_session_id FROM messages
         WHERE participant_id = $1 AND direction = 'out' ORDER BY seq`,
        [participantId],
      )
    ).rows;

  it('fires the free, leaves a locked participant to run alone, skips the stale and the opted out', async () => {
    const free = await person();
    const busy = await person();
    const moved = await person();
    const out = await person();
    const a = await reminder(free.participant.id);
    const b = await reminder(busy.participant.id);
    const c = await reminder(moved.participant.id);
    const d = await reminder(out.participant.id);
    // c moves on (a reschedule bumps the version); d's participant opts out.
    await upsertScheduledItem(getDb(), {
      kind: 'reminder_day_before',
      participantId: moved.participant.id,
      bookingId: c.bookingId,
      sessionId: c.sessionId,
      dueAt: new Date(Date.now() + 2 * 3_600_000 + 60_000),
    });
    await setOptOut(getDb(), out.participant.id, true, { actor: 'participant' });

    // Another transaction (another connection) holds b's participant for the whole batch.
    const holder = new pg.Client({
      connectionString: TEST_DATABASE_URL,
    });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))`,
        [busy.participant.id],
      );
      // Resolves while the lock is still held: the batch tried the lock, it did not wait.
      const outcomes = await p.runner.handleItemBatch([a, b, c, d].map(ref));
      expect(outcomes).toEqual(['fired', 'alone', 'stale', 'skipped']);
      expect(await state(b.id)).toMatchObject({ state: 'pending' });
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    expect(await state(a.id)).toMatchObject({ state: 'fired' });
    expect(await state(d.id)).toEqual({ state: 'skipped', skip_reason: 'opted_out' });
    await waitFor(() => p.gateway.to(free.phone).length === 1);
    expect(p.gateway.to(moved.phone)).toEqual([]);
    expect(p.gateway.to(out.phone)).toEqual([]);
    expect(await outbox(out.participant.id)).toEqual([]);
    // Left alone, it runs on its own once the lock is free: exactly once.
    expect(await p.runner.handleItem(b.id, b.version)).toBe('fired');
    expect(await p.runner.handleItemBatch([ref(b), ref(a)])).toEqual(['stale', 'stale']);
    await waitFor(() => p.gateway.to(busy.phone).length === 1);
    expect(p.gateway.to(free.phone)).toHaveLength(1);
  });

  it("keeps the job order for a participant's two items in one batch", async () => {
    const who = await person();
    const other = await person();
    const first = await reminder(who.participant.id);
    const second = await reminder(who.participant.id);
    const between = await reminder(other.participant.id);
    // The later-created item first in the batch: the batch's order is what counts.
    expect(await p.runner.handleItemBatch([second, between, first].map(ref))).toEqual([
      'fired',
      'fired',
      'fired',
    ]);
    const msgs = await outbox(who.participant.id);
    expect(msgs).toHaveLength(2);
    const { rows: convs } = await getDb().query<{ id: string; status: string }>(
      `SELECT id, status FROM conversation_sessions WHERE participant_id = $1 ORDER BY started_at, id`,
      [who.participant.id],
    );
    // The second item ran after the first, under the same lock: it interrupted the first's
    // conversation, and its message comes after the first's.
    const ended = convs.find((c) => c.status === 'ended')!;
    const live = convs.find((c) => c.status !== 'ended')!;
    expect(convs).toHaveLength(2);
    expect(msgs.map((m) => m.conversation_session_id)).toEqual([ended.id, live.id]);
    const { rows: booking } = await getDb().query<{ booking_id: string }>(
      `SELECT state->'context'->'booking'->>'id' AS booking_id FROM conversation_sessions WHERE id = $1`,
      [live.id],
    );
    expect(booking[0]!.booking_id).toBe(first.bookingId);
    await waitFor(() => p.gateway.to(who.phone).length === 2);
  });

  it('a statement failing mid-batch rolls the whole batch back; each then runs alone', async () => {
    const ok = await person();
    const bad = await person();
    const x = await reminder(ok.participant.id);
    const y = await reminder(bad.participant.id);
    // The second item's outbox insert fails (as a crash or a broken row would).
    await getDb().exec(`
      CREATE FUNCTION fail_for_test() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.address = '${bad.phone}' THEN RAISE EXCEPTION 'test failure'; END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER fail_for_test BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION fail_for_test();`);
    try {
      expect(await p.runner.handleItemBatch([x, y].map(ref))).toEqual(['alone', 'alone']);
      // Nothing of the batch was written, not even the first item's.
      expect(await state(x.id)).toMatchObject({ state: 'pending' });
      expect(await outbox(ok.participant.id)).toEqual([]);
      // Alone, the good one fires and the bad one fails by itself (its job retries).
      expect(await p.runner.handleItem(x.id, x.version)).toBe('fired');
      await expect(p.runner.handleItem(y.id, y.version)).rejects.toThrow(/test failure/);
    } finally {
      await getDb().exec('DROP TRIGGER fail_for_test ON messages; DROP FUNCTION fail_for_test();');
    }
    expect(await p.runner.handleItem(y.id, y.version)).toBe('fired');
    await waitFor(
      () => p.gateway.to(ok.phone).length === 1 && p.gateway.to(bad.phone).length === 1,
    );
  });

  it('through the reminders worker: a burst of 120 due reminders, each sent exactly once', async () => {
    const sid = await session();
    const people = await Promise.all(Array.from({ length: 120 }, () => person()));
    const items = [];
    for (const who of people) items.push(await reminder(who.participant.id, sid, new Date()));
    await enqueueItems(getDb(), p.queues, items, new Date());
    await waitFor(() => people.every((who) => p.gateway.to(who.phone).length >= 1), 60_000);
    for (const who of people) expect(p.gateway.to(who.phone)).toHaveLength(1);
    const { rows } = await getDb().query<{ state: string; n: number }>(
      'SELECT state, count(*)::int AS n FROM scheduled_items WHERE session_id = $1 GROUP BY state',
      [sid],
    );
    expect(rows).toEqual([{ state: 'fired', n: 120 }]);
  }, 90_000);
});
