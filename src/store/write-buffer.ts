import type { Db, QueryResult } from './db-port.js';

/**
 * Inserts a transaction defers and writes together: one multi-row INSERT per kind of row
 * instead of a round trip each (a reminder burst writes a conversation, an outbox message
 * and a timer per reminder). Only inserts whose result the caller knows without the
 * database are deferred: the repo functions that offer it choose the ids themselves.
 *
 * Whatever runs next on the transaction sees them: the buffered handle writes every
 * deferred row before any other statement through it and before a savepoint, kinds in the
 * order they depend on each other (conversations before the messages and timers that name
 * them), each kind's rows in the order they were deferred (messages get their seq in that
 * order). A failing deferred insert fails the statement that flushed it: the transaction
 * rolls back as it would have at the insert.
 */
export interface DeferredInsert {
  /** Order of the kinds at a flush: a kind may reference rows of a lower rank. */
  readonly rank: number;
  /** One statement writing the rows (the same statement writes a single row at once). */
  write(tx: Db, rows: readonly (readonly unknown[])[]): Promise<void>;
}

interface Buffer {
  pending: Map<DeferredInsert, (readonly unknown[])[]>;
  /** Savepoints open through the handle: nothing is deferred inside one (it may roll back). */
  savepoints: number;
}

const buffers = new WeakMap<Db, Buffer>();

/**
 * Writes `row` now on a plain handle, or defers it on a buffered one (see withWriteBuffer).
 */
export async function insertOrDefer(
  db: Db,
  kind: DeferredInsert,
  row: readonly unknown[],
): Promise<void> {
  const buffer = buffers.get(db);
  if (!buffer || buffer.savepoints > 0) return kind.write(db, [row]);
  const rows = buffer.pending.get(kind);
  if (rows) rows.push(row);
  else buffer.pending.set(kind, [row]);
}

/** Columns of `rows` as arrays, the parameters of an INSERT ... SELECT FROM unnest(...). */
export function columnsOf(rows: readonly (readonly unknown[])[], width: number): unknown[][] {
  return Array.from({ length: width }, (_, c) => rows.map((r) => r[c] ?? null));
}

/**
 * Runs `fn` with a handle on `tx` that defers the inserts offered through insertOrDefer,
 * then writes what is still deferred (before the caller commits).
 */
export async function withWriteBuffer<T>(tx: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const buffer: Buffer = { pending: new Map(), savepoints: 0 };
  const flush = async (): Promise<void> => {
    while (buffer.pending.size > 0) {
      const [kind, rows] = [...buffer.pending].sort(([a], [b]) => a.rank - b.rank)[0]!;
      buffer.pending.delete(kind);
      await kind.write(tx, rows);
    }
  };
  const buffered: Db = {
    kind: tx.kind,
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      await flush();
      return tx.query<R>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      await flush();
      await tx.exec(sql);
    },
    async transaction<R>(inner: (sp: Db) => Promise<R>): Promise<R> {
      await flush();
      buffer.savepoints += 1;
      try {
        return await tx.transaction(() => inner(buffered));
      } finally {
        buffer.savepoints -= 1;
      }
    },
    close: () => tx.close(),
  };
  buffers.set(buffered, buffer);
  const result = await fn(buffered);
  await flush();
  return result;
}
