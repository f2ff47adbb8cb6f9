/**
 * Shared pieces of the benchmarks: sizes from the environment, a Redis of the benchmark's
 * own (so memory and command counts are not mixed with other users of the shared one), a
 * fresh PostgreSQL schema, worker child processes, statistics and the machine's description.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { type Db, openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { startOwnRedis } from '../test/support/own-redis.js';

const envSchema = z.object({
  BENCH_N: z.coerce.number().int().min(10).default(100_000),
  BENCH_RUNS: z.coerce.number().int().min(1).default(3),
  BENCH_BACKLOG: z.coerce.number().int().min(0).default(1_000_000),
  BENCH_WORKERS: z.coerce.number().int().min(1).default(2),
  /**
   * How Linkline and the baselines reach PostgreSQL and Redis on this machine: their Unix
   * sockets (the README's advice for a co-located deployment), or loopback TCP.
   */
  BENCH_TRANSPORT: z.enum(['socket', 'tcp']).default('socket'),
  BENCH_DATABASE_URL: z.string().optional(),
});

export type BenchEnv = Omit<z.infer<typeof envSchema>, 'BENCH_DATABASE_URL'> & {
  BENCH_DATABASE_URL: string;
};

/** Debian's PostgreSQL socket folder, and the same database over loopback TCP. */
const PG_SOCKET_URL = 'postgres:///test?host=/var/run/postgresql&user=postgres';
const PG_TCP_URL = 'postgres://postgres@127.0.0.1:5432/test';

export function benchEnv(): BenchEnv {
  const r = envSchema.safeParse(process.env);
  if (!r.success) {
    process.stderr.write(`bad benchmark settings: ${z.prettifyError(r.error)}\n`);
    process.exit(2);
  }
  const socket = r.data.BENCH_TRANSPORT === 'socket';
  return {
    ...r.data,
    BENCH_DATABASE_URL: r.data.BENCH_DATABASE_URL ?? (socket ? PG_SOCKET_URL : PG_TCP_URL),
  };
}

/** The transport line of a report. */
export function transportNote(env: BenchEnv): string {
  return env.BENCH_TRANSPORT === 'socket'
    ? 'PostgreSQL and Redis are reached through their Unix sockets (BENCH_TRANSPORT=socket, as README "Configuration" advises for a co-located deployment).'
    : 'PostgreSQL and Redis are reached over loopback TCP (BENCH_TRANSPORT=tcp).';
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function log(line: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  redis: string;
  postgres: string;
}

export async function machine(db: Db, redis: Redis): Promise<Machine> {
  const info = await redis.info('server');
  const { rows } = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown',
    postgres: rows[0]?.v ?? 'unknown',
  };
}

export const load1 = () => Math.round(loadavg()[0]! * 100) / 100;

/** A private redis-server for the benchmark; stopped by `stop()`. */
export async function benchRedis(): Promise<{ url: string; stop: () => Promise<void> }> {
  const own = await startOwnRedis();
  const url = benchEnv().BENCH_TRANSPORT === 'socket' ? `unix://${own.socket}` : own.url;
  await listpackHashes(url);
  atExit.push(() => void own.stop().catch(() => undefined));
  return { url, stop: () => own.stop() };
}

/**
 * The Redis setting README recommends for Linkline (Deployment): a job hash whose values
 * are at most 256 bytes (a reminder's opts are about 130) stays listpack-encoded, about half
 * the memory of a hashtable. Applies to the bare baseline as well: it uses the same server.
 */
export const HASH_MAX_LISTPACK_VALUE = '256';

async function listpackHashes(url: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url);
  try {
    await r.config('SET', 'hash-max-listpack-value', HASH_MAX_LISTPACK_VALUE);
  } finally {
    r.disconnect();
  }
}

/** A fresh, migrated schema in the benchmark database; `drop()` removes it. */
export async function benchSchema(
  databaseUrl: string,
  poolMax = 10,
): Promise<{ db: Db; schema: string; url: string; drop: () => Promise<void> }> {
  const schema = `ll_bench_${randomBytes(5).toString('hex')}`;
  const db = await openDb({ databaseUrl, schema, max: poolMax });
  await migrate(db);
  const sep = databaseUrl.includes('?') ? '&' : '?';
  const url = `${databaseUrl}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  return {
    db,
    schema,
    url,
    drop: async () => {
      await db.exec(`DROP SCHEMA ${schema} CASCADE`).catch(() => undefined);
      await db.close();
    },
  };
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 240_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`child did not start: ${seen.slice(-800)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-4000);
      if (pattern.test(seen)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onData);
        resolve(seen);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`child exited ${code}: ${seen.slice(-800)}`)));
  });
}

export interface Children {
  list: ChildProcess[];
  spawnLinkline(env: Record<string, string>, extraArgs?: string[]): Promise<ChildProcess>;
  spawnBare(env: Record<string, string>): Promise<ChildProcess>;
  /** `linkline serve` (the HTTP side; WORKERS=off in env for HTTP only). */
  spawnServe(env: Record<string, string>): Promise<ChildProcess>;
  /** `tsx <file>` with an IPC channel; resolves once its output matches `ready` (the output so far). */
  spawnScript(
    file: string,
    env: Record<string, string>,
    ready: RegExp,
    nodeArgs?: string[],
  ): Promise<{ child: ChildProcess; output: string }>;
  stopAll(): Promise<void>;
}

const baseEnv = (): Record<string, string> => ({
  PATH: process.env.PATH ?? '',
  HOME: process.env.HOME ?? '/tmp',
});

/** Cleanups to run if the benchmark is stopped by a signal. */
const atExit: (() => void)[] = [];

/** Every child the benchmark started, ended if the benchmark itself is stopped. */
const everyChild = new Set<ChildProcess>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    for (const c of everyChild) c.kill('SIGTERM');
    for (const f of atExit) f();
    process.exit(130);
  });

export function children(): Children {
  const list: ChildProcess[] = [];
  const drain = (c: ChildProcess) => {
    // Keep reading so a chatty child never blocks on a full pipe. BENCH_CHILD_LOG=dir keeps
    // each child's log lines (pino's JSON: no bodies or full numbers) as dir/<pid>.log.
    const dir = process.env.BENCH_CHILD_LOG;
    if (dir) c.stdout?.pipe(createWriteStream(`${dir}/${c.pid}.log`));
    else c.stdout?.on('data', () => undefined);
    c.stderr?.on('data', (d: Buffer) => {
      if (process.env.BENCH_VERBOSE) process.stderr.write(d);
    });
  };
  return {
    list,
    async spawnLinkline(env, extraArgs = []) {
      const child = spawn(
        'node_modules/.bin/tsx',
        [...extraArgs, 'src/cli/main.ts', 'worker'],
        // The production default log level: a line per send, like the real service.
        { env: { ...baseEnv(), LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      list.push(child);
      everyChild.add(child);
      await waitForLine(child, /linkline worker running/);
      drain(child);
      return child;
    },
    async spawnServe(env) {
      const child = spawn('node_modules/.bin/tsx', ['src/cli/main.ts', 'serve'], {
        env: { ...baseEnv(), LOG_LEVEL: 'info', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      list.push(child);
      everyChild.add(child);
      await waitForLine(child, /linkline listening/);
      drain(child);
      return child;
    },
    async spawnBare(env) {
      const child = spawn('node_modules/.bin/tsx', ['bench/bare-worker.ts'], {
        env: { ...baseEnv(), ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      list.push(child);
      everyChild.add(child);
      drain(child);
      return child;
    },
    async spawnScript(file, env, ready, nodeArgs = []) {
      const child = spawn('node_modules/.bin/tsx', [...nodeArgs, file], {
        env: { ...baseEnv(), ...env },
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      });
      list.push(child);
      everyChild.add(child);
      const output = await waitForLine(child, ready);
      drain(child);
      return { child, output };
    },
    async stopAll() {
      await Promise.all(
        list.splice(0).map(
          (c) =>
            new Promise<void>((resolve) => {
              if (c.exitCode !== null || c.signalCode !== null) return resolve();
              const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
              c.once('exit', () => {
                everyChild.delete(c);
                clearTimeout(t);
                resolve();
              });
              c.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

let askId = 0;
/** Asks a bare worker child for its completion counts over IPC. */
export function ask<T>(child: ChildProcess, what: string): Promise<T> {
  askId += 1;
  const id = askId;
  return new Promise((resolve) => {
    const on = (m: { id: number; value: T }) => {
      if (m.id !== id) return;
      child.off('message', on);
      resolve(m.value);
    };
    child.on('message', on);
    child.send({ id, what });
  });
}

export async function redisNumbers(
  redis: Redis,
): Promise<{ used: number; rss: number; cmds: number }> {
  const mem = await redis.info('memory');
  const stats = await redis.info('stats');
  const num = (s: string, k: string) => Number(new RegExp(`${k}:(\\d+)`).exec(s)?.[1] ?? 0);
  return {
    used: num(mem, 'used_memory'),
    rss: num(mem, 'used_memory_rss'),
    cmds: num(stats, 'total_commands_processed'),
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** "median (min-max)" with a fixed number of decimals. */
export function mr(xs: readonly number[], digits = 1): string {
  if (xs.length === 0) return 'n/a';
  const f = (x: number) => x.toFixed(digits);
  if (xs.length === 1) return f(xs[0]!);
  return `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
}

/** Samples a process's CPU use from /proc (Linux), in % of one core over the interval. */
export async function pgCpuSampler(): Promise<{ stop: () => Promise<number> }> {
  const { readFile, readdir } = await import('node:fs/promises');
  // CPU ticks per postgres process. A process that ends between the two looks takes its
  // ticks with it, so sum per process (ticks now less ticks at the start, when it existed
  // then): one that ended is left out (an undercount), never a negative figure.
  const ticks = async (): Promise<Map<string, number>> => {
    const byPid = new Map<string, number>();
    for (const pid of await readdir('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const comm = (await readFile(`/proc/${pid}/comm`, 'utf8')).trim();
        if (!comm.startsWith('postgres')) continue;
        const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
        byPid.set(pid, Number(stat[11]) + Number(stat[12]));
      } catch {
        // the process ended meanwhile
      }
    }
    return byPid;
  };
  const t0 = Date.now();
  const c0 = await ticks();
  return {
    stop: async () => {
      let used = 0;
      for (const [pid, now] of await ticks()) used += now - (c0.get(pid) ?? 0);
      return (used / 100 / ((Date.now() - t0) / 1000)) * 100;
    },
  };
}
