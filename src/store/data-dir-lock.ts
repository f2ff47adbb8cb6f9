import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.js';

export const LOCK_FILE = 'linkline.lock';

/** True if a process with this pid exists (EPERM: it exists, owned by someone else). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process's database: a second process opening the same folder (an `import`
 * or a `report` while `serve` runs) would corrupt it. The folder holds `linkline.lock` with
 * the owner's pid; another live owner is refused with a clear error, a dead one's lock is
 * taken over. Returns the release.
 */
export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, LOCK_FILE);
  const mine = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, mine, { flag: 'wx' });
      return () => {
        try {
          if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
    if (Number.isInteger(owner) && owner !== process.pid && alive(owner))
      throw new StoreError(
        'in_use',
        `the embedded database in ${dir} is in use by process ${owner} (a running linkline serve?): ` +
          `stop it first (or use its admin API), or delete ${path} if no Linkline is running`,
      );
    unlinkSync(path); // left by a process that is gone (or by this one): take it over
  }
  throw new StoreError('in_use', `could not lock the embedded database in ${dir}`);
}
