/** The mixed-day section of BENCHMARKS.md (issue 7), from bench/day.ts's results. */
import { type GrowthRow, growthRows, latency } from './day-plan.js';
import type { Baselines, DayResult } from './day-run.js';

export interface DayBench {
  main: DayResult;
  days: DayResult[];
  baselines: Baselines;
  settings: Record<string, string | number>;
  seconds: number;
}

const MiB = 2 ** 20;
const n0 = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-GB') : 'n/a');
const f = (x: number, d = 1) => (Number.isFinite(x) ? Math.max(x, 0).toFixed(d) : 'n/a');
const ms = (x: number) => (Number.isFinite(x) ? `${Math.round(x)} ms` : 'n/a');
const ok = (met: boolean) => (met ? 'met' : '**not met**');

function mainRows(d: DayResult, b: Baselines, smsRate: number): string[] {
  const m = d.morning;
  const reply = latency(m.replyLatencyMs);
  const thread = latency(m.threadLatencyMs);
  const relay = latency(m.relayLatencyMs);
  const errors = m.refused + m.missing;
  const maxWorkerRss = Math.max(...d.rss.workers);
  return [
    '| Figure | Linkline | Bare baseline (same run) | Target | Verdict |',
    '|---|---|---|---|---|',
    `| Whole morning, due time to the last SMS or Slack post | ${f(d.totalS)} s | - | - | - |`,
    `| All ${n0(d.p)} day-before reminders handed to the fake | ${f(d.remindersS)} s, ${n0(d.reminderRate)}/s | bare BullMQ ${n0(b.bareJobsPerS)} no-op jobs/s (all in ${f(b.bareAllS)} s); raw SDK to the fake ${n0(b.sdkSendsPerS)} sends/s | issue 3: 100,000 within 30 s | ratio ${f(d.reminderRate / b.bareJobsPerS, 2)} of bare BullMQ, ${f(d.reminderRate / b.sdkSendsPerS, 2)} of raw SDK |`,
    `| Reply inbound-to-response (webhook sent to answer at the fake), p50 / p99 / max, n | ${ms(reply.p50)} / ${ms(reply.p99)} / ${ms(reply.max)}, n = ${reply.n} | - | issue 4: p99 <= 1 s during a (paced) blast | ${ok(reply.p99 <= 1000)} (${smsRate > 0 ? `paced at ${smsRate}/s` : 'unpaced here'}) |`,
    `| Hand-off thread posted in Slack after the text, p50 / p99, n | ${ms(thread.p50)} / ${ms(thread.p99)}, n = ${thread.n} | - | - | - |`,
    `| Link worker's thread reply to the participant's SMS, p50 / p99, n | ${ms(relay.p50)} / ${ms(relay.p99)}, n = ${relay.n} | - | - | - |`,
    `| Errors: webhooks not answered 200 / answers never seen | ${m.refused} / ${m.missing} | - | 0 | ${ok(errors === 0)} |`,
    `| Thread replies held back: Linkline had not yet recorded the thread when the link worker answered (the reply would be ignored) | ${m.heldBack} | - | 0 | ${ok(m.heldBack === 0)} |`,
    `| Duplicates: a reminder, hand-off thread or relayed reply twice | ${m.duplicates}${m.duplicates > 0 ? ` (reminders ${m.duplicateKinds.reminder}, threads ${m.duplicateKinds.thread}, relayed replies ${m.duplicateKinds.relay})` : ''} | - | 0 | ${ok(m.duplicates === 0)} |`,
    `| Worker RSS, peak, MiB per process (max of ${d.rss.workers.length}) | ${f(maxWorkerRss / MiB, 0)} | - | - | - |`,
    `| HTTP process (\`linkline serve\`, WORKERS=off) RSS, peak, MiB | ${f(d.rss.http / MiB, 0)} | - | - | - |`,
    `| Redis used_memory: empty / seeded and armed / after the morning, MiB | ${f(d.redis.before / MiB)} / ${f(d.redis.afterSeed / MiB)} / ${f(d.redis.after / MiB)} | - | - | - |`,
    `| PostgreSQL: the day's schema (tables, indexes, TOAST) after the morning, MiB | ${f(d.pgBytes / MiB)} | - | - | - |`,
    `| CPU over the morning: workers / HTTP process, s | ${f(d.cpu.workers / 1000)} / ${f(d.cpu.http / 1000)} | - | - | - |`,
    `| PostgreSQL CPU during the morning, % of one core | ${f(d.pgCpu, 0)} | - | - | all postgres processes on the machine |`,
    `| The driver (the traffic) and the local Twilio and Slack (a process of their own, nice -10): CPU, s, traffic / fakes; event-loop delay p99 / max, ms, traffic / fakes | ${f(d.driver.cpuMs / 1000)} / ${f(d.driver.fakesCpuMs / 1000)}; ${n0(d.driver.lagP99Ms)} / ${n0(d.driver.lagMaxMs)}; ${n0(d.driver.fakesLagP99Ms)} / ${n0(d.driver.fakesLagMaxMs)} | - | - | every send and post waits on the fakes |`,
    `| Load average (1 min) at the due time | ${d.load} | - | - | shared machine |`,
  ];
}

export function growthTable(rows: readonly GrowthRow[]): string[] {
  return [
    '| Participants | Morning, s | Worker + HTTP CPU, ms per participant | Redis growth, bytes per participant | PostgreSQL, bytes per participant | Time per participant vs smallest | CPU per participant vs smallest |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${n0(r.p)} | ${f(r.seconds)} | ${f(r.cpuMsPerP, 2)} | ${n0(r.redisBytesPerP)} | ${n0(r.pgBytesPerP)} | ${f(r.timeRatio, 2)} | ${f(r.cpuRatio, 2)} |`,
    ),
  ];
}

export function daySection(bench: DayBench): string {
  const d = bench.main;
  const roles = d.morning.roles;
  const settings = Object.entries(bench.settings)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const growth = growthRows(
    bench.days.map((x) => ({
      p: x.p,
      seconds: x.totalS,
      cpuMs: x.cpu.workers + x.cpu.http,
      redisBytes: x.redis.after - x.redis.before,
      pgBytes: x.pgBytes,
    })),
  );
  return [
    `## Mixed day (issue 7): ${n0(d.p)} participants, one morning`,
    '',
    `Settings: ${settings}; the section took ${f(bench.seconds / 60)} min. One run per size.`,
    '',
    `${n0(d.p)} participants in groups of ${bench.settings.BENCH_DAY_GROUP}, each booked onto one session`,
    "the day after the reminders' due time; participants and bookings are bulk SQL, their reminders, lead summaries and",
    'journey timers are planned by the booking domain itself (`replanSession`, `planJourney`):',
    `${Object.entries(d.items)
      .map(([k, v]) => `${n0(v)} ${k}`)
      .join(', ')} (seeded in ${f(d.seedS)} s).`,
    'The service runs in production mode as deployed: `linkline serve` with WORKERS=off and',
    `${bench.settings.BENCH_WORKERS} \`linkline worker\` processes, the local Twilio and Slack fakes reached through`,
    'the real SDKs. All day-before reminders come due at once, at a whole minute chosen ahead and set as',
    'REMINDER_DAY_BEFORE_AT for the seed and the service (no due time is forced); as each arrives the participant',
    `answers through a signed Twilio webhook: ${n0(roles.confirm)} reply 1, ${n0(roles.cant)} reply 2,`,
    `${n0(roles.help)} reply 3 (a hand-off), ${n0(roles.talk)} text "talk to someone" (a hand-off),`,
    `${n0(roles.silent)} stay silent; a link worker answers each hand-off thread by a signed Slack event.`,
    'Latencies are from the request leaving the driver to the answer recorded by the fake. Redis',
    'after the morning includes the completed jobs BullMQ keeps (a day, at most 10,000 per queue),',
    'so its growth per participant flattens past 10,000.',
    '',
    ...mainRows(d, bench.baselines, Number(bench.settings.BENCH_DAY_SMS_RATE ?? 0)),
    '',
    '### How the cost grows',
    '',
    'The same day at each size (BENCH_DAY_GROWTH; 100,000 only when listed: about an hour on the',
    'quiet machine). Ratios are per participant against the smallest size: 1.00 means linear growth.',
    '',
    ...growthTable(growth),
    '',
  ].join('\n');
}

/**
 * The section of an earlier BENCHMARKS.md whose heading starts with `heading` (up to the
 * next `## `), marked as kept; a fallback when there is none. Lets BENCH_ONLY re-run one
 * section without losing the others.
 */
export function keptSection(previous: string, heading: string, fallback: string): string {
  const lines = previous.split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) return fallback;
  const after = lines.slice(start + 1).findIndex((l) => /^## /.test(l));
  const body = lines.slice(start + 1, after < 0 ? undefined : start + 1 + after);
  const note = '_Kept from an earlier run (BENCH_ONLY left this section out this time)._';
  const rest = body[1]?.startsWith('_Kept from') ? body.slice(3) : body.slice(1);
  return [lines[start]!, '', note, '', ...rest].join('\n');
}
