import type { Db } from './db-port.js';
import { StoreError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

// One lock per schema, so several processes (or test files in their own schemas) can
// start at once. PGlite supports pg_advisory_xact_lock too (it is a single connection,
// so there it never waits, but the SQL is the same).
const LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext(coalesce(current_schema(), '') || '.linkline.migrate'))`;
const TABLE_SQL = `CREATE TABLE IF NOT EXISTS schema_migrations (
  id text PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
)`;
const ID_FORMAT = /^\d{4}-[a-z0-9-]+$/;

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Ids in the database that this code does not know: newer code ran here. */
  unknown: string[];
}

function assertWellFormed(migrations: readonly Migration[]): void {
  const ids = migrations.map((m) => m.id);
  const sorted = [...ids].sort();
  const bad = ids.find((id) => !ID_FORMAT.test(id));
  if (bad !== undefined || new Set(ids).size !== ids.length || sorted.join() !== ids.join()) {
    throw new StoreError(
      'bad_migrations',
      `migration ids must be unique, sorted, NNNN-name: ${ids}`,
    );
  }
}

async function lockAndRead(tx: Db, migrations: readonly Migration[]): Promise<MigrationStatus> {
  await tx.query(LOCK_SQL);
  await tx.exec(TABLE_SQL);
  const { rows } = await tx.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id');
  const inDb = new Set(rows.map((r) => r.id));
  const known = new Set(migrations.map((m) => m.id));
  return {
    applied: rows.map((r) => r.id).filter((id) => known.has(id)),
    pending: migrations.map((m) => m.id).filter((id) => !inDb.has(id)),
    unknown: rows.map((r) => r.id).filter((id) => !known.has(id)),
  };
}

function refuseUnknown(status: MigrationStatus): void {
  if (status.unknown.length === 0) return;
  throw new StoreError(
    'unknown_migration',
    `the database has migrations this code does not know (${status.unknown.join(', ')}): ` +
      'newer code has run against it; refusing to continue',
  );
}

/** What is applied, pending and unknown, without changing anything (bar creating the table). */
export async function migrationStatus(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<MigrationStatus> {
  assertWellFormed(migrations);
  return db.transaction((tx) => lockAndRead(tx, migrations));
}

/**
 * Applies the missing migrations in order, each in its own transaction holding the
 * migration lock; records each in schema_migrations. Safe to run from several processes
 * at once: each migration is applied exactly once. Throws `unknown_migration` before
 * applying anything if the database is ahead of this code. Returns the ids it applied.
 */
export async function migrate(
  db: Db,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: string[] }> {
  const before = await migrationStatus(db, migrations);
  refuseUnknown(before);
  const applied: string[] = [];
  for (const migration of migrations) {
    if (!before.pending.includes(migration.id)) continue;
    const ran = await db.transaction(async (tx) => {
      const now = await lockAndRead(tx, migrations);
      refuseUnknown(now);
      if (!now.pending.includes(migration.id)) return false;
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [migration.id]);
      return true;
    });
    if (ran) applied.push(migration.id);
  }
  return { applied };
}
