import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { type Db, openDb } from '../../../src/store/db.js';
import { TEST_DATABASE_URL } from '../../store/drivers.js';

/** A fresh PostgreSQL schema for a child process, and its DATABASE_URL. */
export async function freshSchema(): Promise<{
  db: Db;
  databaseUrl: string;
  drop: () => Promise<void>;
}> {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, max: 4 });
  return {
    db,
    databaseUrl: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    drop: async () => {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}

export interface Linkline {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>;
  /** Resolves once the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * `linkline <command>` as one child process (`node --import tsx`, as in production minus the
 * build). Not the `tsx` wrapper: it is a second process that relays signals, and a SIGTERM
 * arriving while it starts its child ended the run with 143 instead of draining.
 */
export function linkline(command: string, env: Record<string, string>): Linkline {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', command], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString();
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          clearInterval(poll);
          reject(new Error(`not seen ${pattern}: ${out.slice(-1500)}`));
        }, timeoutMs);
        const poll = setInterval(() => {
          if (pattern.test(out)) {
            clearInterval(poll);
            clearTimeout(timer);
            resolve();
          }
        }, 50);
        void exited.then(() => {
          if (pattern.test(out)) return;
          clearInterval(poll);
          clearTimeout(timer);
          reject(new Error(`exited before ${pattern}: ${out.slice(-1500)}`));
        });
      }),
  };
}
