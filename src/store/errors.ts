/**
 * Errors raised by the store itself (not by PostgreSQL). Database errors from either
 * driver are passed through unchanged: both carry the SQLSTATE in `code` and the
 * violated constraint in `constraint`; use `isUniqueViolation` to test for one.
 */
export type StoreErrorCode =
  | 'config' // openDb called with an unusable combination of options
  | 'closed' // the Db (or a finished transaction handle) was used after close
  | 'tx_reentry' // the root Db was used inside one of its own transactions
  | 'unknown_migration' // the database holds a migration id this code does not know
  | 'bad_migrations' // the migration list itself is malformed (programming error)
  | 'ref_exhausted' // could not find a free participant reference
  | 'in_use'; // the embedded database's folder is open in another live process

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable = false;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
}

/** True for a unique_violation (23505), optionally on one named constraint or index. */
export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as PgLikeError;
  if (e.code !== '23505') return false;
  return constraint === undefined || e.constraint === constraint;
}
