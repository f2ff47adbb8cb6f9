import pg from 'pg';
import type { Db, QueryResult, RawRunner } from './db-port.js';
import { assertNotInOwnTransaction, createTxHandle, runInScope } from './db-tx.js';
import { StoreError } from './errors.js';
import { PARSERS } from './type-parsers.js';

export interface PgDbOptions {
  databaseUrl: string;
  schema?: string;
  max?: number;
  /** Errors of idle pooled clients (e.g. the server restarted). The pool drops the client. */
  onError?: (err: Error) => void;
}

const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    const own = format === 'binary' ? undefined : PARSERS[oid];
    return own ?? pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function runnerOf(client: pg.Pool | pg.PoolClient): RawRunner {
  return {
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      const r = await client.query(sql, params ? [...params] : undefined);
      return { rows: r.rows as T[], rowCount: r.rowCount ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      // Without parameters node-postgres uses the simple protocol: several statements are fine.
      await client.query(sql);
    },
  };
}

async function ensureSchema(pool: pg.Pool, schema: string): Promise<void> {
  try {
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  } catch (err) {
    // Two processes creating the same schema at once: one of them loses the race.
    const code = (err as { code?: unknown }).code;
    if (code !== '23505' && code !== '42P06') throw err;
  }
}

async function runTransaction<T>(
  pool: pg.Pool,
  owner: object,
  fn: (tx: Db) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  const { tx, finish } = createTxHandle('pg', runnerOf(client));
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await runInScope(owner, () => fn(tx));
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    finish();
    client.release(broken);
  }
}

/** A pg Pool; with `schema`, every connection starts with `search_path` set to it. */
export async function openPgDb(opts: PgDbOptions): Promise<Db> {
  const config: pg.PoolConfig = { connectionString: opts.databaseUrl, types };
  if (opts.max !== undefined) config.max = opts.max;
  if (opts.schema !== undefined) config.options = `-c search_path=${opts.schema}`;
  const pool = new pg.Pool(config);
  pool.on('error', (err) => opts.onError?.(err));
  if (opts.schema !== undefined) {
    await ensureSchema(pool, opts.schema).catch(async (err: unknown) => {
      await pool.end();
      throw err;
    });
  }
  const owner = {};
  const root = runnerOf(pool);
  let closed = false;
  const guard = (): void => {
    if (closed) throw new StoreError('closed', 'the database is closed');
    assertNotInOwnTransaction(owner);
  };
  return {
    kind: 'pg',
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      guard();
      return root.query<T>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      guard();
      await root.exec(sql);
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      guard();
      return runTransaction(pool, owner, fn);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
