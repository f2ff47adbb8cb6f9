/** Markdown sections of BENCHMARKS.md from the benchmark results. */
import type { BenchEnv } from './lib.js';
import { median, mr, transportNote } from './lib.js';
import type { RunResult } from './scheduler-run.js';

const ok = (met: boolean) => (met ? 'met' : '**not met**');

export function schedulerSection(runs: readonly RunResult[], env: BenchEnv): string {
  const col = <T>(f: (r: RunResult) => T) => runs.map(f);
  const burstRate = col((r) => r.burst.rate);
  const bareRate = col((r) => r.bare.rate);
  const ratio = col((r) => r.burst.rate / r.bare.rate);
  const allS = col((r) => r.burst.allS);
  const firstS = col((r) => r.burst.firstS);
  const dupes = col((r) => r.burst.dupes + (r.backlog?.dupes ?? 0));
  const handed = col((r) => r.burst.handed);
  const mem = col((r) => r.memory.bytesPerReminder);
  const withBacklog = runs.flatMap((r) => (r.backlog ? [r.backlog] : []));
  const backlogRatio = runs.flatMap((r) => (r.backlog ? [r.backlog.rate / r.burst.rate] : []));
  const idle = col((r) => r.idleCmdsPerProc);
  const n = env.BENCH_N;
  const lines = [
    `## Scheduler (issue 3): N = ${n.toLocaleString('en-GB')} reminders, ${env.BENCH_WORKERS} worker processes, ${runs.length} run(s)`,
    '',
    'Median (min-max) of the runs. Each run measures the bare-BullMQ baseline first (the same',
    `number of processes, each a BullMQ Worker with a no-op processor at concurrency 16, the same`,
    'delayed jobs), then Linkline on a fresh schema and a private redis-server. "Hand-off" is the',
    'local Twilio fake accepting the message over HTTP through the real SDK.',
    transportNote(env),
    '',
    '| Figure | Linkline | Bare baseline | Target | Verdict |',
    '|---|---|---|---|---|',
    `| Burst drain, hand-offs/s | ${mr(burstRate, 0)} | ${mr(bareRate, 0)} jobs/s | - | ratio ${mr(ratio, 2)} of bare |`,
    `| All ${n.toLocaleString('en-GB')} handed, s after due | ${mr(allS)} | ${mr(col((r) => r.bare.allS))} | <= 30 | ${ok(median(allS) <= 30 && Math.max(...allS) <= 30)} |`,
    `| First hand-off, s after due | ${mr(firstS, 2)} | ${mr(
      col((r) => r.bare.firstS),
      2,
    )} | <= 0.5 | ${ok(Math.max(...firstS) <= 0.5)} |`,
    `| Handed / sent twice | ${mr(handed, 0)} / ${Math.max(...dupes)} | - | all / 0 | ${ok(Math.min(...handed) === n && Math.max(...dupes) === 0)} |`,
    `| Redis bytes per pending reminder | ${mr(mem, 0)} | ${mr(
      col((r) => r.memory.bareBytesPerJob),
      0,
    )} | <= 1024 (aim 614) | ${ok(Math.max(...mem) <= 1024)} |`,
    `| Redis RSS growth per pending reminder, bytes | ${mr(
      col((r) => r.memory.rssBytesPerReminder),
      0,
    )} | - | - | - |`,
    `| Burst with ${env.BENCH_BACKLOG.toLocaleString('en-GB')} far-future reminders, ratio to without | ${mr(backlogRatio, 2)} (${mr(
      withBacklog.map((b) => b.rate),
      0,
    )}/s) | - | >= 0.9 | ${withBacklog.length ? ok(median(backlogRatio) >= 0.9) : 'not measured'} |`,
    `| Idle Redis commands/s per worker process | ${mr(idle)} | ${mr(col((r) => r.bare.idleCmdsPerProc))} | <= 50 | ${ok(Math.max(...idle) <= 50)} |`,
    `| PostgreSQL CPU during the burst, % of one core | ${mr(
      col((r) => r.burst.pgCpu),
      0,
    )} | - | - | - |`,
    `| Worker RSS after the burst, MiB per process | ${mr(
      col((r) => r.workerRssMiB),
      0,
    )} | - | - | - |`,
    `| Load average (1 min) at burst start | ${runs.map((r) => r.burst.load).join(', ')} | - | - | shared machine |`,
    '',
  ];
  return lines.join('\n');
}
