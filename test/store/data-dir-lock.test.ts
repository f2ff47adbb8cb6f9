import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_FILE, lockDataDir } from '../../src/store/data-dir-lock.js';
import { openDb } from '../../src/store/db.js';

// PGlite is one process's database: a second process on the same folder is refused.

const dirs: string[] = [];
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'linkline-lock-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** Another live process: its pid, and a way to end it (and wait for the end). */
function otherProcess() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
  const ended = new Promise<void>((r) => child.on('exit', () => r()));
  return {
    pid: child.pid!,
    end: async () => {
      child.kill('SIGKILL');
      await ended;
    },
  };
}

describe('the embedded database folder lock', () => {
  it('refuses a folder another live process holds, naming it; takes over once that process is gone', async () => {
    const dir = await tempDir();
    const other = otherProcess();
    try {
      writeFileSync(join(dir, LOCK_FILE), String(other.pid));
      await expect(openDb({ dataDir: dir })).rejects.toMatchObject({
        code: 'in_use',
        message: expect.stringContaining(`in use by process ${other.pid}`),
      });
      // Nothing was taken: the other process's lock is still there.
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(String(other.pid));
    } finally {
      await other.end();
    }
    const db = await openDb({ dataDir: dir });
    try {
      expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(String(process.pid));
      expect((await db.query<{ n: number }>('SELECT 1 AS n')).rows).toEqual([{ n: 1 }]);
    } finally {
      await db.close();
    }
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it('a release leaves a lock that is no longer its own alone', async () => {
    const dir = await tempDir();
    const release = lockDataDir(dir);
    writeFileSync(join(dir, LOCK_FILE), '999999999');
    release();
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('999999999');
  });
});
