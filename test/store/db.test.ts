import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.js';
import { migrate, migrationStatus } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { drivers, sleep, useTestDb } from './drivers.js';

describe.each(drivers)('db port and migrations on $name', (driver) => {
  const getDb = useTestDb(driver, { migrated: false });

  describe('migrate', () => {
    it('applies each migration once when several callers start at once', async () => {
      const results = await Promise.all([1, 2, 3].map(() => migrate(getDb())));
      // Callers take turns per migration, so each caller's list holds some of them; together
      // they hold each exactly once. The order they went in is checked by applied_at below.
      expect(results.flatMap((r) => r.applied).sort()).toEqual(MIGRATIONS.map((m) => m.id).sort());
      const { rows } = await getDb().query<{ id: string }>(
        'SELECT id FROM schema_migrations ORDER BY applied_at, id',
      );
      expect(rows.map((r) => r.id)).toEqual(MIGRATIONS.map((m) => m.id));
    });

    it('is a no-op the second time', async () => {
      expect(await migrate(getDb())).toEqual({ applied: [] });
      const { rows } = await getDb().query<{ n: number }>(
        'SELECT count(*) AS n FROM schema_migrations',
      );
      expect(rows[0]?.n).toBe(MIGRATIONS.length);
    });

    it('refuses to run when the database has a migration it does not know', async () => {
      const db = getDb();
      await db.query(`INSERT INTO schema_migrations (id) VALUES ('9999-from-newer-code')`);
      try {
        await expect(migrate(db)).rejects.toMatchObject({ code: 'unknown_migration' });
        expect((await migrationStatus(db)).unknown).toEqual(['9999-from-newer-code']);
      } finally {
        await db.query(`DELETE FROM schema_migrations WHERE id = '9999-from-newer-code'`);
      }
    });

    it('rolls back a failing migration whole and records nothing', async () => {
      const db = getDb();
      const bad = { id: '9998-bad', sql: 'CREATE TABLE half_done (x int); SELECT 1/0;' };
      await expect(migrate(db, [...MIGRATIONS, bad])).rejects.toThrow(/division by zero/);
      const { rows } = await db.query(`SELECT to_regclass('half_done') AS t`);
      expect(rows[0]).toEqual({ t: null });
      expect((await migrationStatus(db)).applied).toEqual(MIGRATIONS.map((m) => m.id));
    });

    it('rejects a malformed migration list', async () => {
      const list = [{ id: '0002-b', sql: '' }, ...MIGRATIONS];
      await expect(migrate(getDb(), list)).rejects.toMatchObject({ code: 'bad_migrations' });
    });
  });

  describe('row parsing', () => {
    it('parses int8, numeric, timestamptz, date, time, jsonb and arrays the same way', async () => {
      const at = new Date('2025-03-30T00:59:59.123Z');
      const { rows } = await getDb().query(
        `SELECT 9007199254740991::int8 AS big, count(*) AS n, 7.25::numeric AS score,
           $1::timestamptz AS at, '2025-03-30'::date AS day, '20:00'::time AS quiet,
           '{"a":[1,2]}'::jsonb AS j, ARRAY['x','y']::text[] AS tags, NULL::text AS nothing,
           ARRAY[1, NULL]::int8[] AS ids, ARRAY[0.5]::numeric[] AS scores,
           ARRAY['2025-10-26']::date[] AS days, '{}'::int8[] AS none
         FROM (VALUES (1), (2)) v(x)`,
        [at],
      );
      expect(rows[0]).toEqual({
        big: 9007199254740991,
        n: 2,
        score: 7.25,
        at,
        day: '2025-03-30',
        quiet: '20:00:00',
        j: { a: [1, 2] },
        tags: ['x', 'y'],
        nothing: null,
        ids: [1, null],
        scores: [0.5],
        days: ['2025-10-26'],
        none: [],
      });
      expect(rows[0]?.at).toBeInstanceOf(Date);
    });

    it('refuses an int8 it cannot represent exactly', async () => {
      await expect(getDb().query('SELECT 9007199254740993::int8 AS x')).rejects.toThrow(RangeError);
    });

    it('reports rowCount for SELECT, INSERT, UPDATE and no-op statements', async () => {
      const db = getDb();
      await db.exec('CREATE TABLE rc (x int PRIMARY KEY); INSERT INTO rc VALUES (1), (2);');
      expect((await db.query('SELECT * FROM rc')).rowCount).toBe(2);
      expect((await db.query('UPDATE rc SET x = x + 10')).rowCount).toBe(2);
      expect((await db.query('INSERT INTO rc VALUES (11) ON CONFLICT DO NOTHING')).rowCount).toBe(
        0,
      );
      expect((await db.query('DELETE FROM rc WHERE x > 100')).rowCount).toBe(0);
    });
  });

  describe('transactions', () => {
    it('commits on success and rolls back on error', async () => {
      const db = getDb();
      await db.exec('CREATE TABLE tx_t (v text)');
      await db.transaction((tx) => tx.query(`INSERT INTO tx_t VALUES ('kept')`));
      const failing = db.transaction(async (tx) => {
        await tx.query(`INSERT INTO tx_t VALUES ('lost')`);
        throw new Error('boom');
      });
      await expect(failing).rejects.toThrow('boom');
      expect((await db.query('SELECT v FROM tx_t')).rows).toEqual([{ v: 'kept' }]);
    });

    it('nests with savepoints: an inner failure leaves the outer work', async () => {
      const db = getDb();
      await db.exec('CREATE TABLE tx_nest (v text)');
      await db.transaction(async (tx) => {
        await tx.query(`INSERT INTO tx_nest VALUES ('outer')`);
        const inner = tx.transaction(async (t2) => {
          await t2.query(`INSERT INTO tx_nest VALUES ('inner')`);
          await t2.query('SELECT 1/0');
        });
        await expect(inner).rejects.toThrow(/division by zero/);
      });
      expect((await db.query('SELECT v FROM tx_nest')).rows).toEqual([{ v: 'outer' }]);
    });

    it('refuses the root handle inside its own transaction, and a stale tx handle', async () => {
      const db = getDb();
      let leaked: typeof db | undefined;
      const misuse = db.transaction(async (tx) => {
        leaked = tx;
        await db.query('SELECT 1');
      });
      await expect(misuse).rejects.toBeInstanceOf(StoreError);
      await expect(misuse).rejects.toMatchObject({ code: 'tx_reentry' });
      await expect(leaked!.query('SELECT 1')).rejects.toMatchObject({ code: 'closed' });
    });

    it('serialises transactions on PGlite (one connection); runs them side by side on pg', async () => {
      const db = getDb();
      await db.exec('CREATE TABLE tx_log (seq serial PRIMARY KEY, who text)');
      const steps: string[] = [];
      const run = (who: string) =>
        db.transaction(async (tx) => {
          steps.push(`${who}:begin`);
          await tx.query('INSERT INTO tx_log (who) VALUES ($1)', [`${who}1`]);
          await sleep(20);
          await tx.query('INSERT INTO tx_log (who) VALUES ($1)', [`${who}2`]);
          steps.push(`${who}:end`);
        });
      await Promise.all([run('a'), run('b')]);
      const { rows } = await db.query<{ who: string }>('SELECT who FROM tx_log ORDER BY seq');
      if (driver.name === 'pglite') {
        expect(steps).toEqual(['a:begin', 'a:end', 'b:begin', 'b:end']);
        expect(rows.map((r) => r.who)).toEqual(['a1', 'a2', 'b1', 'b2']);
      } else {
        expect(steps.slice(0, 2).sort()).toEqual(['a:begin', 'b:begin']);
        expect(rows.map((r) => r.who).sort()).toEqual(['a1', 'a2', 'b1', 'b2']);
      }
    });

    it('makes a query wait for an open transaction on PGlite; pg reads committed data at once', async () => {
      const db = getDb();
      await db.exec('CREATE TABLE tx_gate (v text)');
      let open = (): void => {};
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const tx = db.transaction(async (t) => {
        await t.query(`INSERT INTO tx_gate VALUES ('x')`);
        await gate;
      });
      let settled = false;
      const read = db.query<{ n: number }>('SELECT count(*) AS n FROM tx_gate').finally(() => {
        settled = true;
      });
      await sleep(50);
      expect(settled).toBe(driver.name === 'pg');
      open();
      await tx;
      expect((await read).rows[0]?.n).toBe(driver.name === 'pglite' ? 1 : 0);
    });
  });
});
