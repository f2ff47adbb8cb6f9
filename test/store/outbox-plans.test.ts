import { describe, expect, it } from 'vitest';
import type { Db, QueryResult } from '../../src/store/db.js';
import { markSentMany, markStatus } from '../../src/store/repos/messages.js';
import { drivers, useTestDb } from './drivers.js';

const pg = drivers.find((d) => d.name === 'pg')!;

/** Runs each UPDATE of messages through EXPLAIN first, keeping the plans. */
function explaining(db: Db, plans: string[]): Db {
  return {
    ...db,
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      if (/^\s*UPDATE messages/.test(sql)) {
        const { rows } = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
        plans.push(rows.map((r) => r['QUERY PLAN']).join('\n'));
      }
      return db.query<T>(sql, params);
    },
  };
}

describe('the send path reads outbox rows by key, however many are queued (pg planner)', () => {
  const getDb = useTestDb(pg, { migrated: true });

  it('after a burst queued 20,000 messages the statistics do not know of: no scan of the outbox index', async () => {
    const db = getDb();
    await db.exec(`INSERT INTO participants (ref, phone)
      SELECT 'P-' || lpad(g::text, 6, '0'), '+4477009' || lpad(g::text, 5, '0') FROM generate_series(1, 20000) g`);
    await db.exec(`INSERT INTO messages (direction, status, channel, participant_id, address, body)
      SELECT 'out', 'sent', 'sms', id, phone, 'earlier' FROM participants`);
    await db.exec('ANALYZE messages');
    // The burst: a queued message each, after the last ANALYZE (autovacuum lags a burst).
    await db.exec(`INSERT INTO messages (direction, status, channel, participant_id, address, body)
      SELECT 'out', 'queued', 'sms', id, phone, 'reminder' FROM participants`);
    const ids = (
      await db.query<{ id: string }>("SELECT id FROM messages WHERE status = 'queued' LIMIT 64")
    ).rows.map((r) => r.id);
    const plans: string[] = [];
    const moved = await markSentMany(
      explaining(db, plans),
      ids.map((id, i) => ({ id, providerSid: `SM${String(i).padStart(32, '0')}` })),
    );
    expect(moved.every(Boolean)).toBe(true);
    const [queuedId] = (
      await db.query<{ id: string }>("SELECT id FROM messages WHERE status = 'queued' LIMIT 1")
    ).rows;
    await markStatus(
      explaining(db, plans),
      { id: queuedId!.id },
      { status: 'failed', errorCode: '30008' },
    );
    expect(plans).toHaveLength(2);
    for (const plan of plans) {
      expect(plan).toContain('messages_pkey');
      expect(plan).not.toContain('messages_outbox_participant_idx');
    }
  });
});
