import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { type Db, openDb } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

export const TEST_DATABASE_URL =
  process.env.LINKLINE_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface Driver {
  name: 'pglite' | 'pg';
  open(): Promise<{ db: Db; cleanup: () => Promise<void> }>;
}

export const drivers: Driver[] = [
  {
    name: 'pglite',
    async open() {
      const db = await openDb({ memory: true });
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: 'pg',
    async open() {
      const schema = `ll_test_${randomBytes(6).toString('hex')}`;
      const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, max: 12 });
      return {
        db,
        cleanup: async () => {
          await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await db.close();
        },
      };
    },
  },
];

/** One database per describe block (a fresh PGlite, or a fresh schema), dropped after. */
export function useTestDb(driver: Driver, opts: { migrated: boolean }): () => Db {
  let db: Db | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    ({ db, cleanup } = await driver.open());
    if (opts.migrated) await migrate(db);
  });
  afterAll(async () => {
    await cleanup?.();
  });
  return () => {
    if (!db) throw new Error('test database not open yet');
    return db;
  };
}

let counter = 0;

/**
 * A valid UK mobile number, unique within the process (each file has its own database), and
 * one the local Twilio delivers.
 */
export function uniquePhone(): string {
  counter += 1;
  // Never +447700900903 and the like (900-999): the local Twilio's failing magic numbers.
  if (counter >= 900 && counter < 1000) counter = 1000;
  return `+4477009${String(counter).padStart(5, '0')}`;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
