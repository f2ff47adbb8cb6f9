import { PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import { lockDataDir } from './data-dir-lock.js';
import type { Db, QueryResult, RawRunner } from './db-port.js';
import { assertNotInOwnTransaction, createTxHandle, runInScope } from './db-tx.js';
import { StoreError } from './errors.js';
import { SerialQueue } from './serial-queue.js';
import { PARSERS } from './type-parsers.js';

export interface PgliteDbOptions {
  /** A folder; omitted means in memory. */
  dataDir?: string;
  schema?: string;
}

function toResult<T>(r: Results<T>): QueryResult<T> {
  const affected = r.affectedRows ?? 0;
  return { rows: r.rows, rowCount: affected > 0 ? affected : r.rows.length };
}

function runnerOf(target: PGlite | Transaction): RawRunner {
  return {
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      return toResult(await target.query<T>(sql, params ? [...params] : undefined));
    },
    async exec(sql: string): Promise<void> {
      await target.exec(sql);
    },
  };
}

/**
 * PGlite is one connection. Every root query, exec and transaction goes through one
 * serial queue, so two transactions never interleave and a query issued while a
 * transaction is open waits for it to finish (and then sees its committed writes).
 */
export async function openPgliteDb(opts: PgliteDbOptions): Promise<Db> {
  const release = opts.dataDir === undefined ? () => {} : lockDataDir(opts.dataDir);
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
      parsers: PARSERS,
    });
  } catch (err) {
    release();
    throw err;
  }
  if (opts.schema !== undefined) {
    await pglite.exec(
      `CREATE SCHEMA IF NOT EXISTS ${opts.schema}; SET search_path TO ${opts.schema};`,
    );
  }
  const owner = {};
  const queue = new SerialQueue();
  const root = runnerOf(pglite);
  let closed = false;
  const guard = (): void => {
    if (closed) throw new StoreError('closed', 'the database is closed');
    assertNotInOwnTransaction(owner);
  };
  return {
    kind: 'pglite',
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      guard();
      return queue.run(() => root.query<T>(sql, params));
    },
    async exec(sql: string): Promise<void> {
      guard();
      await queue.run(() => root.exec(sql));
    },
    async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
      guard();
      return queue.run(() =>
        pglite.transaction(async (ptx) => {
          const { tx, finish } = createTxHandle('pglite', runnerOf(ptx));
          try {
            return await runInScope(owner, () => fn(tx));
          } finally {
            finish();
          }
        }),
      );
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await queue.drain();
      try {
        await pglite.close();
      } finally {
        release();
      }
    },
  };
}
