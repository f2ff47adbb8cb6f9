import type { Db } from './db-port.js';

/**
 * Keeps the planner's statistics of Linkline's own tables fresh where nothing else does.
 *
 * PostgreSQL caches a plan per prepared statement and reuses it until something about its
 * tables changes, and ANALYZE is that something. Autovacuum normally runs it after
 * `autovacuum_analyze_threshold` + `autovacuum_analyze_scale_factor` x rows have changed.
 * Without it (autovacuum off, as on a server tuned for tests; or PGlite, whose single
 * embedded backend runs no autovacuum at all), a plan made while a table was nearly empty
 * (a sequential scan is cheapest then) is used for ever: measured at 200 texts/s, every
 * claim of the next inbound text and every send claim read the whole messages table, and
 * PostgreSQL's CPU per text grew with the table.
 *
 * So when autovacuum is off, or the database is PGlite, the workers run the maintenance
 * job `analyze` every ANALYZE_EVERY_MS: it analyses each table of the current schema whose
 * changes since its last ANALYZE pass autovacuum's own threshold (the server's settings),
 * and nothing else. A table analysed gets fresh plans in every connection. A transaction-level
 * advisory lock per schema keeps two worker processes from analysing at once (the second skips
 * its round).
 */

/** The maintenance queue's job name (no data: the job reads pg_stat_user_tables). */
export const ANALYZE_JOB = 'analyze';
/** How often the job looks: a fresh deployment's tables grow fast in their first minutes. */
export const ANALYZE_EVERY_MS = 5_000;

/** Whether Linkline must analyse its own tables: no autovacuum runs against this database. */
export async function needsOwnAnalyze(db: Db): Promise<boolean> {
  if (db.kind === 'pglite') return true;
  const { rows } = await db.query<{ on: boolean }>(
    "SELECT current_setting('autovacuum')::boolean AS on",
  );
  return rows[0]?.on === false;
}

/**
 * ANALYZEs every table of the current schema changed past autovacuum's threshold since its
 * last analysis, most grown first; returns their names. Changes are counted by the server's
 * statistics (`n_mod_since_analyze`) and, because PGlite's single backend never publishes
 * those, also by growth: a table now more than (1 + scale factor) times the pages it had at
 * its last ANALYZE, plus one.
 */
export async function analyzeChanged(db: Db): Promise<string[]> {
  // One keeper at a time per schema, across processes: the others skip this round.
  return db.transaction(async (tx) => {
    const { rows: lock } = await tx.query<{ ok: boolean }>(
      `SELECT pg_try_advisory_xact_lock(hashtextextended('linkline.analyze.' || current_schema(), 0)) AS ok`,
    );
    if (!lock[0]?.ok) return [];
    const { rows } = await tx.query<{ name: string }>(
      `WITH t AS (
         SELECT c.relname AS name, c.relpages, greatest(c.reltuples, 0) AS tuples,
           coalesce(s.n_mod_since_analyze, 0) AS changed,
           pg_relation_size(c.oid) / current_setting('block_size')::int AS pages,
           current_setting('autovacuum_analyze_threshold')::float8 AS threshold,
           current_setting('autovacuum_analyze_scale_factor')::float8 AS scale
         FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r')
       SELECT name FROM t
       WHERE changed > threshold + scale * tuples OR pages > (1 + scale) * relpages + 1
       ORDER BY pages - relpages DESC, changed DESC`,
    );
    for (const { name } of rows) await tx.exec(`ANALYZE "${name.replaceAll('"', '""')}"`);
    return rows.map((r) => r.name);
  });
}
