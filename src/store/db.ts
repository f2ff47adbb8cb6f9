import type { Config } from '../config/schema.js';
import { openPgDb } from './db-pg.js';
import { openPgliteDb } from './db-pglite.js';
import type { Db } from './db-port.js';
import { StoreError } from './errors.js';

export type { Db, QueryResult } from './db-port.js';

export interface OpenDbOptions {
  /** postgres://... : use a pg Pool. Without it, PGlite. */
  databaseUrl?: string;
  /** PGlite folder. */
  dataDir?: string;
  /** PGlite in memory; must be asked for explicitly so data is never lost by accident. */
  memory?: boolean;
  /** A schema to create if missing and put alone on the search_path (tests, multi-tenant). */
  schema?: string;
  /** pg pool size. */
  max?: number;
  onError?: (err: Error) => void;
}

/** openDb's options for the configured store: PostgreSQL by URL, or PGlite in a folder. */
export function dbOptionsOf(db: Config['db']): OpenDbOptions {
  return db.kind === 'postgres' ? { databaseUrl: db.url } : { dataDir: db.dir };
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens the system of record. Same SQL and the same row parsing on both drivers. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    throw new StoreError('config', `schema must match ${SCHEMA_NAME}: got ${opts.schema}`);
  }
  const schema = opts.schema === undefined ? {} : { schema: opts.schema };
  if (opts.databaseUrl !== undefined) {
    return openPgDb({
      databaseUrl: opts.databaseUrl,
      ...schema,
      ...(opts.max === undefined ? {} : { max: opts.max }),
      ...(opts.onError === undefined ? {} : { onError: opts.onError }),
    });
  }
  if (opts.dataDir !== undefined) return openPgliteDb({ dataDir: opts.dataDir, ...schema });
  if (opts.memory === true) return openPgliteDb(schema);
  throw new StoreError('config', 'openDb needs databaseUrl, dataDir or memory: true');
}
