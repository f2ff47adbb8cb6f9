import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/db.js';
import { analyzeChanged, needsOwnAnalyze } from '../../src/store/stats-keeper.js';
import { drivers, sleep, TEST_DATABASE_URL, useTestDb } from './drivers.js';

/** The plan a prepared statement runs with now (its cached generic plan, if it has one). */
async function planOf(run: (sql: string) => Promise<{ rows: unknown[] }>): Promise<string> {
  const { rows } = await run('EXPLAIN EXECUTE find_k(7)');
  return (rows as { 'QUERY PLAN': string }[]).map((r) => r['QUERY PLAN']).join('\n');
}

/**
 * A table whose statistics say empty, as a migration's table rewrite or an ANALYZE at start
 * leaves Linkline's (a table never analysed at all is assumed to hold 10 pages).
 */
const TABLE = `CREATE TABLE keeper_t (id serial PRIMARY KEY, k int NOT NULL, v text);
  CREATE INDEX keeper_t_k ON keeper_t (k); ANALYZE keeper_t`;
const GROW = "INSERT INTO keeper_t (k, v) SELECT g, 'row ' || g FROM generate_series(1, 20000) g";

for (const driver of drivers) {
  describe(`the statistics keeper (${driver.name})`, () => {
    const getDb = useTestDb(driver, { migrated: false });

    it('a plan cached while the table was empty scans it whole until analyzeChanged runs; then the index', async () => {
      await getDb().transaction(async (tx: Db) => {
        await tx.exec(TABLE);
        expect(await analyzeChanged(tx)).toEqual([]);
        // The plan PostgreSQL would cache after a few runs, made now, on the empty table.
        await tx.exec('SET LOCAL plan_cache_mode = force_generic_plan');
        await tx.exec('PREPARE find_k(int) AS SELECT v FROM keeper_t WHERE k = $1');
        const run = (sql: string) => tx.query(sql);
        expect(await planOf(run)).toContain('Seq Scan on keeper_t');
        await tx.exec(GROW);
        // The table grew 20,000 rows; nothing told the cached plan.
        expect(await planOf(run)).toContain('Seq Scan on keeper_t');
        expect(await analyzeChanged(tx)).toEqual(['keeper_t']);
        const fresh = await planOf(run);
        expect(fresh).not.toContain('Seq Scan');
        expect(fresh).toContain('keeper_t_k');
        // Analysed: nothing more to do until it changes again.
        expect(await analyzeChanged(tx)).toEqual([]);
        await tx.exec('DEALLOCATE find_k; DROP TABLE keeper_t');
      });
    });

    it('needs its own ANALYZE exactly when no autovacuum runs: PGlite always, PostgreSQL when autovacuum is off', async () => {
      const db = getDb();
      const expected =
        db.kind === 'pglite' ||
        (await db.query<{ autovacuum: string }>('SHOW autovacuum')).rows[0]!.autovacuum === 'off';
      expect(await needsOwnAnalyze(db)).toBe(expected);
    });
  });
}

describe('the statistics keeper across connections (pg)', () => {
  const getDb = useTestDb(drivers.find((d) => d.name === 'pg')!, { migrated: false });

  it("another connection's cached plan is made again after the keeper's ANALYZE; a table that shrank is analysed by its counted changes", async () => {
    const db = getDb();
    const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    await db.exec(TABLE);
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      await other.query(`SET search_path = ${schema}`);
      await other.query('SET plan_cache_mode = force_generic_plan');
      await other.query('PREPARE find_k(int) AS SELECT v FROM keeper_t WHERE k = $1');
      const run = (sql: string) => other.query(sql);
      expect(await planOf(run)).toContain('Seq Scan on keeper_t');
      await db.exec(GROW);
      expect(await analyzeChanged(db)).toEqual(['keeper_t']);
      expect(await planOf(run)).toContain('keeper_t_k');

      // Deleting most rows leaves the file as big as it was: only the server's count of
      // changes (n_mod_since_analyze) says the statistics are stale.
      await other.query('DELETE FROM keeper_t WHERE k > 1000');
      await other.query('SELECT pg_stat_force_next_flush()');
      await other.query('SELECT 1'); // goes idle again: the counts are published
      let counted = 0;
      for (let i = 0; i < 50 && counted < 19_000; i++) {
        counted = Number(
          (
            await db.query<{ n: string }>(
              "SELECT n_mod_since_analyze AS n FROM pg_stat_user_tables WHERE relname = 'keeper_t' AND schemaname = current_schema()",
            )
          ).rows[0]?.n ?? 0,
        );
        if (counted < 19_000) await sleep(100);
      }
      expect(counted).toBeGreaterThanOrEqual(19_000);
      expect(await analyzeChanged(db)).toEqual(['keeper_t']);
      const { rows } = await db.query<{ reltuples: number }>(
        "SELECT reltuples FROM pg_class WHERE relname = 'keeper_t' AND relnamespace = current_schema()::regnamespace",
      );
      expect(rows[0]!.reltuples).toBe(1000);
    } finally {
      await other.end();
    }
  });
});

describe('two keepers at once (pg)', () => {
  const getDb = useTestDb(drivers.find((d) => d.name === 'pg')!, { migrated: false });

  it('while one keeper holds the schema, another (another worker process) skips its round', async () => {
    const db = getDb();
    await db.exec(TABLE);
    await db.exec(GROW);
    const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const other = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await other.connect();
    try {
      await other.query('BEGIN');
      await other.query(
        `SELECT pg_advisory_xact_lock(hashtextextended('linkline.analyze.' || $1::text, 0))`,
        [schema],
      );
      expect(await analyzeChanged(db)).toEqual([]);
      await other.query('COMMIT');
      expect(await analyzeChanged(db)).toEqual(['keeper_t']);
    } finally {
      await other.end();
    }
  });
});
