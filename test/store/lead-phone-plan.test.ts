import { describe, expect, it } from 'vitest';
import { drivers, useTestDb } from './drivers.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe("every inbound text's lead check finds an activity by its lead's phone (pg planner)", () => {
  const getDb = useTestDb(pg, { migrated: true });

  it('with 5,000 activities, the check reads the lead_phone index, not the table', async () => {
    const db = getDb();
    await db.exec(`INSERT INTO activities (name, lead_phone)
      SELECT 'Activity ' || g, CASE WHEN g % 2 = 0 THEN '+4477008' || lpad(g::text, 5, '0') END
      FROM generate_series(1, 5000) g`);
    await db.exec('ANALYZE activities');
    const explain = async (sql: string, phone: string) =>
      (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, [phone])).rows
        .map((r) => r['QUERY PLAN'])
        .join('\n');
    for (const sql of [
      'SELECT 1 FROM activities WHERE lead_phone = $1 LIMIT 1',
      'SELECT EXISTS (SELECT 1 FROM activities WHERE lead_phone = $1)',
    ]) {
      const plan = await explain(sql, '+447700800042');
      expect(plan).toContain('activities_lead_phone_idx');
      expect(plan).not.toContain('Seq Scan on activities');
    }
    const { rows } = await db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM activities WHERE lead_phone = $1',
      ['+447700800042'],
    );
    expect(rows[0]?.n).toBe(1);
  });
});
