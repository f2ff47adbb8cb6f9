/**
 * `npm run bench` (issue 7): runs the benchmarks and writes BENCHMARKS.md with the machine,
 * the date, the load average, each figure beside its bare baseline from the same run, and
 * the targets. Sizes: BENCH_N (default 100,000), BENCH_RUNS (3), BENCH_BACKLOG (1,000,000),
 * BENCH_WORKERS (2 worker processes); the mixed day's in bench/day.ts. BENCH_ONLY (e.g.
 * `scheduler,day`) runs only the sections listed; the default is every section.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { openDb } from '../src/store/db.js';
import { benchDay } from './day.js';
import { benchEnv, benchRedis, load1, log, machine } from './lib.js';
import { schedulerSection } from './report.js';
import { daySection, keptSection } from './report-day.js';
import { smsSection } from './report-sms.js';
import { benchScheduler } from './scheduler.js';
import { benchSms } from './sms.js';
import { smsEnv } from './sms-run.js';

const env = benchEnv();
const only = new Set(
  (process.env.BENCH_ONLY ?? 'scheduler,sms,day').split(',').map((s) => s.trim()),
);
const previous = await readFile('BENCHMARKS.md', 'utf8').catch(() => '');
const kept = (heading: string) =>
  keptSection(previous, heading, `${heading}\n\nNot run (BENCH_ONLY).\n`);
const started = new Date();
const loadBefore = load1();
log(`npm run bench: N=${env.BENCH_N}, runs=${env.BENCH_RUNS}, backlog=${env.BENCH_BACKLOG}`);
const scheduler = only.has('scheduler') ? await benchScheduler() : null;
const day = only.has('day') ? await benchDay() : null;
const sms = only.has('sms') ? await benchSms() : null;
const loadAfter = load1();

const redis = await benchRedis();
const probe = new Redis(redis.url);
const db = await openDb({ databaseUrl: env.BENCH_DATABASE_URL, max: 1 });
const m = await machine(db, probe);
probe.disconnect();
await redis.stop();
await db.close();

const minutes = (Date.now() - started.getTime()) / 60_000;
const doc = [
  '# Benchmarks',
  '',
  `Written by \`npm run bench\` on ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC; the whole run took ${minutes.toFixed(1)} min.`,
  '',
  `Machine: ${m.cpus} x ${m.cpuModel}, ${m.memGiB} GiB; Node ${m.node}; Redis ${m.redis} (a private`,
  `redis-server started by the benchmark); PostgreSQL ${m.postgres} (local, fsync and`,
  'synchronous_commit on). The machine is shared: its 1-minute load average was',
  `${loadBefore} when the benchmark started and ${loadAfter} when it ended, so absolute`,
  'figures vary a lot between runs; compare each figure with its bare baseline from the same run.',
  '',
  `Sizes: BENCH_N=${env.BENCH_N}, BENCH_RUNS=${env.BENCH_RUNS}, BENCH_BACKLOG=${env.BENCH_BACKLOG}, BENCH_WORKERS=${env.BENCH_WORKERS}`,
  '(the issue targets are for N = 100,000 and a backlog of 1,000,000).',
  '',
  scheduler ? schedulerSection(scheduler.runs, env) : kept('## Scheduler (issue 3)'),
  sms ? smsSection(sms.runs, env, smsEnv()) : kept('## SMS (issue 4)'),
  '',
  day ? daySection(day) : kept('## Mixed day (issue 7)'),
].join('\n');
await writeFile('BENCHMARKS.md', doc);
log(`wrote BENCHMARKS.md (${minutes.toFixed(1)} min)`);
process.exit(0);
