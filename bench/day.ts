/**
 * `npm run bench:day` (issue 7): the mixed day at BENCH_DAY_P participants (default
 * 10,000) and at each size of BENCH_DAY_GROWTH (default 1000,10000; add 100000 for the
 * long run), plus the bare baselines for BENCH_DAY_P in the same run. Writes
 * bench/results/day.json and prints the section for BENCHMARKS.md. The service spends about
 * 25 ms of CPU per participant: the default sizes take about 10 min on the quiet 2-core
 * machine, 100,000 about an hour.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseSizes } from './day-plan.js';
import { type DayResult, dayBaselines, dayRun } from './day-run.js';
import { benchEnv, benchRedis, load1, log } from './lib.js';
import { type DayBench, daySection } from './report-day.js';

const dayEnvSchema = z.object({
  BENCH_DAY_P: z.coerce.number().int().min(10).default(10_000),
  BENCH_DAY_GROWTH: z.string().default('1000,10000'),
  BENCH_DAY_GROUP: z.coerce.number().int().min(1).default(25),
  BENCH_DAY_REPLY_SHARE: z.coerce.number().min(0).max(1).default(0.3),
  BENCH_DAY_TALK_SHARE: z.coerce.number().min(0).max(1).default(0.02),
  BENCH_DAY_SMS_RATE: z.coerce.number().min(0).default(0),
  BENCH_DAY_CALLBACKS: z.enum(['0', '1']).default('1'),
  BENCH_DAY_THINK_MS: z.coerce.number().int().min(0).default(2_000),
});

export async function benchDay(): Promise<DayBench> {
  const env = benchEnv();
  const day = dayEnvSchema.parse(process.env);
  const started = Date.now();
  const sizes = [...new Set([...parseSizes(day.BENCH_DAY_GROWTH), day.BENCH_DAY_P])].sort(
    (a, b) => a - b,
  );
  const days: DayResult[] = [];
  let baselines: DayBench['baselines'] | null = null;
  for (const p of sizes) {
    // A private redis-server per day: its memory figures are the day's alone.
    const redis = await benchRedis();
    try {
      if (p === day.BENCH_DAY_P) baselines = await dayBaselines(redis.url, env, p);
      log(`mixed day: P=${p} (load ${load1()})`);
      const d = await dayRun(redis.url, env, {
        p,
        group: day.BENCH_DAY_GROUP,
        shares: { reply: day.BENCH_DAY_REPLY_SHARE, talk: day.BENCH_DAY_TALK_SHARE },
        smsRate: day.BENCH_DAY_SMS_RATE,
        callbacks: day.BENCH_DAY_CALLBACKS === '1',
        thinkMs: day.BENCH_DAY_THINK_MS,
      });
      log(
        `day P=${p}: ${d.totalS.toFixed(1)} s, ${d.morning.reminders} reminders at ${d.reminderRate.toFixed(0)}/s, ${d.morning.threads} threads, ${d.morning.duplicates} duplicates, ${d.morning.refused + d.morning.missing} errors`,
      );
      days.push(d);
    } finally {
      await redis.stop();
    }
  }
  const main = days.find((d) => d.p === day.BENCH_DAY_P)!;
  const bench: DayBench = {
    main,
    days,
    baselines: baselines!,
    settings: { ...day, BENCH_WORKERS: env.BENCH_WORKERS },
    seconds: (Date.now() - started) / 1000,
  };
  await mkdir('bench/results', { recursive: true });
  await writeFile('bench/results/day.json', `${JSON.stringify(bench, null, 2)}\n`);
  return bench;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const bench = await benchDay();
  process.stdout.write(`${daySection(bench)}\n(${bench.seconds.toFixed(0)} s)\n`);
  process.exit(0);
}
