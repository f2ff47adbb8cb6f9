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

/** A deferred kind's statement for its rows, as its write() would send it. */
interface Captured {
  sql: string;
  params: unknown[];
  /** The table it inserts into. */
  table: string;
}

/** What `kind.write` would send, captured instead of run; null when not one plain INSERT. */
async function capture(
  kind: DeferredInsert,
  rows: readonly (readonly unknown[])[],
): Promise<Captured | null> {
  const sent: { sql: string; params: unknown[] }[] = [];
  const recorder: Db = {
    kind: 'pg',
    async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
      sent.push({ sql, params: [...(params ?? [])] });
      return { rows: [], rowCount: 0 };
    },
    exec: async () => {
      throw new Error('not capturable');
    },
    transaction: async () => {
      throw new Error('not capturable');
    },
    close: async () => {},
  };
  try {
    await kind.write(recorder, rows);
  } catch {
    return null;
  }
  const table = /^\s*INSERT\s+INTO\s+(\w+)/i.exec(sent[0]?.sql ?? '')?.[1];
  // One INSERT of its own, parameters only as $n (no WITH, no dollar quoting, no RETURNING).
  if (sent.length !== 1 || !table || /\$\$|\bRETURNING\b|^\s*WITH\b/i.test(sent[0]!.sql))
    return null;
  return { ...sent[0]!, table: table.toLowerCase() };
}

/** `sql` with its parameters $1..$n moved to $(1+offset)..$(n+offset). */
function shifted(sql: string, offset: number): string {
  return offset === 0 ? sql : sql.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + offset}`);
}

/**
 * One statement running `main` with the `carried` inserts as data-modifying CTEs before it:
 * every part runs (PostgreSQL runs each data-modifying CTE to completion), on the same
 * snapshot, so `main` must not read or change the carried tables. Foreign keys between the
 * parts are checked at the end of the statement.
 */
function combine(
  main: { sql: string; params: readonly unknown[] },
  carried: readonly Captured[],
): { sql: string; params: unknown[] } {
  const params = [...main.params];
  const ctes = carried.map((c, i) => {
    const part = `ll_deferred_${i} AS (${shifted(c.sql, params.length)})`;
    params.push(...c.params);
    return part;
  });
  const body = main.sql.replace(/^\s+/, '');
  const sql = /^WITH\s/i.test(body)
    ? `WITH ${ctes.join(', ')}, ${body.replace(/^WITH\s+/i, '')}`
    : `WITH ${ctes.join(', ')} ${body}`;
  return { sql, params };
}

/** Write-buffered handles' state, by handle (see withWriteBuffer). */
const flushers = new WeakMap<
  Db,
  { tx: Db; take: (touches: readonly string[]) => Promise<Captured[]> }
>();

/**
 * Runs one statement on `db`, carrying what a write-buffered handle has deferred (see
 * withWriteBuffer) in the same round trip: the highest-ranked kind deferred rides along as
 * a CTE of the statement when it inserts into a table not in `touches`; the rest is written
 * first, as before any statement. `touches` must list every table among those deferred into
 * (conversation_sessions, messages, scheduled_items) that `sql` reads, changes or
 * references by a foreign key: the statement runs on the snapshot taken before the carried
 * rows exist, and a foreign key to them would fail. On any other handle this is db.query.
 */
export async function queryCarrying<R>(
  db: Db,
  sql: string,
  params: readonly unknown[],
  touches: readonly string[],
): Promise<QueryResult<R>> {
  const f = flushers.get(db);
  if (!f) return db.query<R>(sql, params);
  const carried = await f.take(touches);
  if (carried.length === 0) return f.tx.query<R>(sql, params);
  const c = combine({ sql, params }, carried);
  return f.tx.query<R>(c.sql, c.params);
}

/**
 * Runs `fn` with a handle on `tx` that defers the inserts offered through insertOrDefer,
 * then writes what is still deferred (before the caller commits): one statement per kind,
 * in rank order. queryCarrying adds the last kind to a statement of the caller's instead.
 */
export async function withWriteBuffer<T>(tx: Db, fn: (tx: Db) => Promise<T>): Promise<T> {
  const buffer: Buffer = { pending: new Map(), savepoints: 0 };
  const ranked = () => [...buffer.pending].sort(([a], [b]) => a.rank - b.rank);
  /**
   * Empties the buffer for a statement carrying deferred rows: every kind is written now, one
   * statement each in rank order, except the highest-ranked one pending (nothing deferred
   * references it), which is returned captured, when its table is not among `touches`.
   */
  const take = async (touches: readonly string[]): Promise<Captured[]> => {
    const all = ranked();
    const last = all.at(-1);
    const c = last && buffer.savepoints === 0 ? await capture(last[0], last[1]) : null;
    const carried = c && !touches.includes(c.table) ? [c] : [];
    for (const [kind, rows] of all) {
      buffer.pending.delete(kind);
      if (carried.length === 0 || kind !== last![0]) await kind.write(tx, rows);
    }
    return carried;
  };
  const flush = async (): Promise<void> => {
    while (buffer.pending.size > 0) {
      const [kind, rows] = ranked()[0]!;
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
  flushers.set(buffered, { tx, take });
  const result = await fn(buffered);
  await flush();
  return result;
}
