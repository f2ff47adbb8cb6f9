/**
 * `npm run bench:scheduler` (issue 3): BENCH_RUNS runs of the burst, memory, backlog and
 * idle measurements, each beside a bare-BullMQ baseline from the same run. Writes
 * bench/results/scheduler.json and prints the section for BENCHMARKS.md.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { benchEnv, benchRedis, load1, log } from './lib.js';
import { schedulerSection } from './report.js';
import { type RunResult, schedulerRun } from './scheduler-run.js';

export async function benchScheduler(): Promise<{ runs: RunResult[]; seconds: number }> {
  const env = benchEnv();
  const started = Date.now();
  const redis = await benchRedis();
  const runs: RunResult[] = [];
  try {
    for (let r = 1; r <= env.BENCH_RUNS; r++) {
      log(`scheduler run ${r}/${env.BENCH_RUNS} (N=${env.BENCH_N}, load ${load1()})`);
      runs.push(await schedulerRun(redis.url, env));
    }
  } finally {
    await redis.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  await mkdir('bench/results', { recursive: true });
  await writeFile(
    'bench/results/scheduler.json',
    `${JSON.stringify({ env, seconds, runs }, null, 2)}\n`,
  );
  return { runs, seconds };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { runs, seconds } = await benchScheduler();
  process.stdout.write(`${schedulerSection(runs, benchEnv())}\n(${seconds.toFixed(0)} s)\n`);
  process.exit(0);
}
