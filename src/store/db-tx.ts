import { AsyncLocalStorage } from 'node:async_hooks';
import type { Db, QueryResult, RawRunner } from './db-port.js';
import { StoreError } from './errors.js';

interface TxScope {
  readonly owner: object;
  active: boolean;
}

// Which root Db handles have a transaction open in the current async context. Lets the
// root handle refuse re-entry, which on PGlite's single connection would deadlock.
const scopes = new AsyncLocalStorage<readonly TxScope[]>();

export function assertNotInOwnTransaction(owner: object): void {
  const open = scopes.getStore();
  if (open?.some((s) => s.owner === owner && s.active)) {
    throw new StoreError(
      'tx_reentry',
      'the root Db was used inside its own transaction: use the tx handle passed to the callback',
    );
  }
}

export async function runInScope<T>(owner: object, fn: () => Promise<T>): Promise<T> {
  const scope: TxScope = { owner, active: true };
  try {
    return await scopes.run([...(scopes.getStore() ?? []), scope], fn);
  } finally {
    scope.active = false;
  }
}

/**
 * The `tx` handed to a transaction callback. Nested `transaction()` calls use savepoints.
 * Do not run concurrent work on one handle (e.g. Promise.all of nested transactions):
 * a transaction is one connection doing one thing at a time.
 */
export function createTxHandle(
  kind: Db['kind'],
  runner: RawRunner,
): { tx: Db; finish: () => void } {
  let done = false;
  let savepoints = 0;
  const check = (): void => {
    if (done) throw new StoreError('closed', 'transaction handle used after its transaction ended');
  };
  const tx: Db = {
    kind,
    async query<T>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
      check();
      return runner.query<T>(sql, params);
    },
    async exec(sql: string): Promise<void> {
      check();
      await runner.exec(sql);
    },
    async transaction<T>(fn: (inner: Db) => Promise<T>): Promise<T> {
      check();
      savepoints += 1;
      const name = `ll_sp_${savepoints}`;
      await runner.query(`SAVEPOINT ${name}`);
      try {
        const result = await fn(tx);
        await runner.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (err) {
        await runner.query(`ROLLBACK TO SAVEPOINT ${name}`);
        throw err;
      }
    },
    async close(): Promise<void> {
      throw new StoreError('closed', 'close() is not allowed on a transaction handle');
    },
  };
  return {
    tx,
    finish: () => {
      done = true;
    },
  };
}
