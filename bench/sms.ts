/**
 * `npm run bench:sms` (issue 4): BENCH_RUNS runs of bench/sms-run.ts on a private Redis,
 * each with its baselines; writes bench/results/sms.json and prints the BENCHMARKS.md section.
 *
 * Environment (defaults are the targets; use smaller ones while developing, e.g.
 * BENCH_RUNS=1 BENCH_SMS_CONVO_RATE=50 BENCH_SMS_SECONDS=10 BENCH_SMS_BLAST=2000 BENCH_SMS_RATE=100):
 *   BENCH_RUNS                  runs (3); the table gives median (min-max)
 *   BENCH_WORKERS               `linkline worker` processes beside the HTTP process (2)
 *   BENCH_DATABASE_URL          PostgreSQL (postgres://postgres@127.0.0.1:5432/test); a fresh schema per run
 *   BENCH_SMS_CONVO_RATE        sustained conversation texts per second, open loop (200)
 *   BENCH_SMS_SECONDS           length of the sustained phase, of each baseline and of the idle phase (30)
 *   BENCH_SMS_THINK             seconds between one participant's texts (4); participants = rate x this
 *   BENCH_SMS_BLAST             reminders in the blast (100000)
 *   BENCH_SMS_RATE              the sender's pacing, messages per second (500): the service's SMS_RATE
 *   BENCH_SMS_BLAST_WAIT        stop waiting for the blast after this many times its planned time (3)
 *   BENCH_SMS_BLAST_CONVO_RATE  conversation texts per second, idle and during the blast (10)
 *   BENCH_SMS_CALLBACKS         1: the fake posts signed status callbacks for every message (0)
 *   BENCH_PROFILE               a folder: Linkline's processes write V8 CPU profiles into its http/ and worker/
 *   BENCH_PROBE_DIR             a folder: Linkline's processes load bench/sms-probe.ts and the sustained phase
 *                               prints CPU ms, PostgreSQL round trips and backend CPU per text, pool waits and
 *                               event-loop delay per process, Redis and benchmark CPU (statements.txt: by SQL)
 *   BENCH_VERBOSE               1: the children's stderr is shown
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { benchEnv, benchRedis, load1, log } from './lib.js';
import { smsSection } from './report-sms.js';
import { type SmsRunResult, smsEnv, smsRun } from './sms-run.js';

export async function benchSms(): Promise<{ runs: SmsRunResult[]; seconds: number }> {
  const env = benchEnv();
  const sms = smsEnv();
  const started = Date.now();
  const redis = await benchRedis();
  const runs: SmsRunResult[] = [];
  try {
    for (let r = 1; r <= env.BENCH_RUNS; r++) {
      log(`sms run ${r}/${env.BENCH_RUNS} (load ${load1()})`);
      runs.push(await smsRun(redis.url, env, sms));
    }
  } finally {
    await redis.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/sms.json',
    `${JSON.stringify({ env, sms, seconds, runs }, null, 2)}\n`,
  );
  return { runs, seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { runs, seconds } = await benchSms();
  process.stdout.write(`${smsSection(runs, benchEnv(), smsEnv())}\n(${seconds.toFixed(0)} s)\n`);
  process.exit(0);
}
