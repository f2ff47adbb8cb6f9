/**
 * `npm run bench` (issue 7): runs the benchmarks and writes BENCHMARKS.md with the machine,
 * the date, the load average, each figure beside its bare baseline from the same run, and
 * the targets. Sizes: BENCH_N (default 100,000), BENCH_RUNS (3), BENCH_BACKLOG (1,000,000),
 * BENCH_WORKERS (2 worker processes).
 */
import { writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import { openDb } from '../src/store/db.js';
import { benchEnv, benchRedis, load1, log, machine } from './lib.js';
import { schedulerSection } from './report.js';
import { smsSection } from './report-sms.js';
import { benchScheduler } from './scheduler.js';
import { benchSms } from './sms.js';
import { smsEnv } from './sms-run.js';

const env = benchEnv();
const started = new Date();
const loadBefore = load1();
log(`npm run bench: N=${env.BENCH_N}, runs=${env.BENCH_RUNS}, backlog=${env.BENCH_BACKLOG}`);
const scheduler = await benchScheduler();
const loadAfter = load1();
const sms = await benchSms();

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
  `${loadBefore} when the benchmark started and ${loadAfter} when the scheduler part ended, so absolute`,
  'figures vary a lot between runs; compare each figure with its bare baseline from the same run.',
  '',
  `Sizes: BENCH_N=${env.BENCH_N}, BENCH_RUNS=${env.BENCH_RUNS}, BENCH_BACKLOG=${env.BENCH_BACKLOG}, BENCH_WORKERS=${env.BENCH_WORKERS}`,
  '(the issue targets are for N = 100,000 and a backlog of 1,000,000).',
  '',
  schedulerSection(scheduler.runs, env),
  smsSection(sms.runs, env, smsEnv()),
  '## The mixed day (issue 7)',
  '',
  'Not measured: the mixed day and the 1k/10k/100k cost growth are not written yet.',
  '',
].join('\n');
await writeFile('BENCHMARKS.md', doc);
log(`wrote BENCHMARKS.md (${minutes.toFixed(1)} min)`);
process.exit(0);
