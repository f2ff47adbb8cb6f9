import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Db, openDb } from '../../src/store/db.js';
import { statementName } from '../../src/store/db-pg.js';
import { TEST_DATABASE_URL } from './drivers.js';

describe('pg: parameterised statements are prepared once per connection', () => {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  let db: Db;
  beforeAll(async () => {
    // One connection, so what one query prepared the next one sees.
    db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, max: 1 });
    await db.exec('CREATE TABLE t (id int PRIMARY KEY, a text)');
    await db.query('INSERT INTO t VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
  });
  afterAll(async () => {
    await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await db.close();
  });

  const prepared = async (tx: Db) =>
    (
      await tx.query<{ name: string; statement: string }>(
        'SELECT name, statement FROM pg_prepared_statements',
      )
    ).rows;

  it('names a text by its hash, the same every time; a text without parameters is not named', async () => {
    const sql = 'SELECT a FROM t WHERE id = $1';
    expect(statementName(sql)).toMatch(/^ll_[\w-]{22}$/);
    expect(statementName(sql)).toBe(statementName(sql));
    expect(statementName(`${sql} `)).not.toBe(statementName(sql));
    const r1 = await db.query<{ a: string }>(sql, [1]);
    const r2 = await db.query<{ a: string }>(sql, [2]);
    expect([r1.rows[0]?.a, r2.rows[0]?.a]).toEqual(['one', 'two']);
    const names = await prepared(db);
    expect(names.filter((n) => n.statement === sql).map((n) => n.name)).toEqual([
      statementName(sql),
    ]);
    // The query listing them has no parameters: run unnamed, never prepared.
    expect(names.some((n) => n.statement.includes('pg_prepared_statements'))).toBe(false);
  });

  it('a table changed under a prepared `*` (a rolling deploy migrating): retried unnamed, then unnamed for good', async () => {
    const sql = 'SELECT t.* FROM t WHERE id = $1';
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'one' }]);
    await db.exec("ALTER TABLE t ADD COLUMN b text NOT NULL DEFAULT 'x'");
    // Outside a transaction the refused plan is retried at once without a name.
    expect((await db.query(sql, [1])).rows).toEqual([{ id: 1, a: 'one', b: 'x' }]);
    expect(statementName(sql)).toBeUndefined();
  });

  it('inside a transaction the refused plan fails that transaction once; its retry works', async () => {
    const sql = 'SELECT t.a, t.* FROM t WHERE id = $1';
    await db.transaction((tx) => tx.query(sql, [2]));
    await db.exec('ALTER TABLE t ADD COLUMN c int');
    await expect(db.transaction((tx) => tx.query(sql, [2]))).rejects.toThrow(/cached plan/);
    const again = await db.transaction((tx) => tx.query<{ c: number | null }>(sql, [2]));
    expect(again.rows[0]?.c).toBeNull();
  });
});
