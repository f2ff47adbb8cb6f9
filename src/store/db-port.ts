/**
 * The database port. Two adapters implement it: node-postgres (a Pool) and PGlite
 * (embedded, one connection). Both run the same SQL and return rows parsed the same way:
 *
 * - timestamptz      -> JS `Date` (an instant; render it in a zone with luxon)
 * - date             -> 'YYYY-MM-DD' string (a calendar day has no instant)
 * - time             -> 'HH:MM:SS' string (as both drivers return it)
 * - int8 / bigint    -> JS number; a value beyond Number.MAX_SAFE_INTEGER throws
 * - numeric          -> JS number (scores and money-free quantities only)
 * - json / jsonb     -> parsed value; pass jsonb PARAMETERS as JSON.stringify(...) text,
 *                       because node-postgres turns a JS array into a PG array literal
 * - text[]           -> string[]; int8[], numeric[], date[] -> arrays of the above
 * - uuid             -> string
 *
 * Parameters: pass a `Date` for timestamptz (both drivers send the instant correctly).
 */
export interface QueryResult<T> {
  rows: T[];
  /** Rows returned by a SELECT or RETURNING, else rows affected by INSERT/UPDATE/DELETE. */
  rowCount: number;
}

export interface Db {
  readonly kind: 'pg' | 'pglite';
  /** One statement, `$1`-style parameters. */
  query<T = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
  ): Promise<QueryResult<T>>;
  /** Several statements separated by `;`, no parameters (migrations, DDL). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it rejects. Inside,
   * use only `tx`: the root handle throws `tx_reentry` (on PGlite it would deadlock, and on
   * pg it would silently run outside the transaction). Calling `tx.transaction` nests with
   * a SAVEPOINT.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Closes the pool or the PGlite instance after pending work. Not allowed on a `tx`. */
  close(): Promise<void>;
}

/** The minimum an adapter gives the shared transaction handle. */
export interface RawRunner {
  query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  exec(sql: string): Promise<void>;
}
