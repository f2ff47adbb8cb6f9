/** The SMS section of BENCHMARKS.md (issue 4) from `npm run bench:sms` runs. */
import type { BenchEnv } from './lib.js';
import { mr, transportNote } from './lib.js';
import type { SmsEnv, SmsRunResult } from './sms-run.js';

/** "met" when every run meets the target, "met in k of n runs", or "**not met**". */
function verdict(runs: readonly SmsRunResult[], meets: (r: SmsRunResult) => boolean): string {
  const k = runs.filter(meets).length;
  if (k === runs.length) return 'met';
  return k === 0 ? '**not met**' : `**met in ${k} of ${runs.length} runs**`;
}

const n0 = (x: number) => x.toLocaleString('en-GB');

/** " (503: 12, none: 1 in all runs)" for the non-200 answers, or nothing. */
function statuses(byRun: readonly Record<string, number>[]): string {
  const sum: Record<string, number> = {};
  for (const by of byRun) for (const [k, v] of Object.entries(by)) sum[k] = (sum[k] ?? 0) + v;
  const parts = Object.entries(sum).map(([k, v]) => `${k}: ${v}`);
  return parts.length ? ` (${parts.join(', ')} in all runs)` : '';
}

/** Says which runs stopped waiting before every reminder arrived (the ratio is then a floor). */
function unfinished(runs: readonly SmsRunResult[], n: number): string {
  const cut = runs.filter((r) => !r.blast.finished);
  if (cut.length === 0) return '';
  const what = cut.map(
    (r) => `${n0(r.blast.handed)} of ${n0(n)} after ${r.blast.stoppedS.toFixed(0)} s`,
  );
  return `; **unfinished** in ${cut.length} run(s): ${what.join(', ')}, the ratio counts to when the wait stopped, a floor`;
}

export function smsSection(runs: readonly SmsRunResult[], env: BenchEnv, sms: SmsEnv): string {
  const col = (f: (r: SmsRunResult) => number) => runs.map(f);
  const rate = sms.BENCH_SMS_CONVO_RATE;
  const c = sms.BENCH_SMS_BLAST_CONVO_RATE;
  const n = sms.BENCH_SMS_BLAST;
  const planned = n / sms.BENCH_SMS_RATE;
  const achieved = (r: SmsRunResult) => r.sustained.sent / r.sustained.seconds;
  const answeredShare = (r: SmsRunResult) => r.sustained.reply.n / Math.max(1, r.sustained.sent);
  const windowRatio = (r: SmsRunResult) => r.blast.maxWindow / r.blast.rate;
  const timeRatio = (r: SmsRunResult) =>
    (r.blast.finished ? r.blast.allS : r.blast.stoppedS) / planned;
  const blastVsIdle = (r: SmsRunResult) => r.blast.during.reply.p99 / r.idle.reply.p99;
  const lines = [
    `## SMS (issue 4): conversations at ${rate} texts/s, a blast of ${n0(n)} reminders at ${sms.BENCH_SMS_RATE}/s, ${runs.length} run(s)`,
    '',
    'Median (min-max) of the runs; a verdict is "met" when every run meets the target. Each run',
    'first measures the baselines at the same rate, with the same signed POSTs: (a) bare',
    'node:http answering empty TwiML, (b) a node:http server checking the signature with the',
    'twilio library, adding a BullMQ job and answering, with a no-op BullMQ Worker in the same',
    `process. Then Linkline: an HTTP process (WORKERS=off) and ${env.BENCH_WORKERS} \`linkline worker\` processes, a`,
    'fresh PostgreSQL schema, a private redis-server, SMS_RATE set to the blast rate, and the',
    'local Twilio in the benchmark process, reached by the real twilio SDK. Virtual participants',
    `text the whole intake (12 texts, one reply each; a new participant every 12 texts, each`,
    `texting every ${sms.BENCH_SMS_THINK} s) through signed webhooks, sent by an open-loop generator: text i goes`,
    'at i/rate s whatever became of the earlier ones. In the first think time every text starts',
    'a new conversation; after that one text in 12 does. A webhook answered with anything but',
    '200 is not delivered again (Twilio would retry it or use the fallback URL); it counts as',
    'unanswered. "Ack" is the webhook POST to its answer; "reply" is the POST to the fake',
    'receiving the reply. Pacing is counted at the fake over every message it received from',
    'the first to the last reminder (replies take slots too). Before the idle phase and before',
    'the blast the benchmark waits (at most 2 min) for the inbound and outbound queues to empty.',
    sms.BENCH_SMS_CALLBACKS
      ? 'The fake posts signed status callbacks (queued, sent, delivered) for every message.'
      : 'The fake posts no status callbacks (BENCH_SMS_CALLBACKS=1 turns them on).',
    transportNote(env),
    '',
    '| Figure | Linkline | Bare node:http | Signed + enqueue + no-op job | Target | Verdict |',
    '|---|---|---|---|---|---|',
    `| Conversation texts/s sent (open loop) | ${mr(col(achieved), 0)} | ${mr(
      col((r) => r.bareHttp.sent / r.bareHttp.seconds),
      0,
    )} | ${mr(
      col((r) => r.bareQueue.sent / r.bareQueue.seconds),
      0,
    )} | >= 200 | ${verdict(runs, (r) => achieved(r) >= 200 * 0.99)} |`,
    `| Texts answered, % (unanswered) | ${mr(
      col((r) => answeredShare(r) * 100),
      2,
    )} (${mr(
      col((r) => r.sustained.unanswered),
      0,
    )}) | - | - | 100 | ${verdict(runs, (r) => r.sustained.unanswered === 0)} |`,
    `| Webhook ack p50, ms | ${mr(col((r) => r.sustained.ack.p50))} | ${mr(col((r) => r.bareHttp.ack.p50))} | ${mr(col((r) => r.bareQueue.ack.p50))} | - | - |`,
    `| Webhook ack p99, ms | ${mr(col((r) => r.sustained.ack.p99))} | ${mr(col((r) => r.bareHttp.ack.p99))} | ${mr(col((r) => r.bareQueue.ack.p99))} | < 50 | ${verdict(runs, (r) => r.sustained.ack.p99 < 50)} |`,
    `| Inbound to reply p50, ms (baseline: POST to job done) | ${mr(col((r) => r.sustained.reply.p50))} | - | ${mr(col((r) => r.bareQueue.done.p50))} | - | - |`,
    `| Inbound to reply p99, ms | ${mr(col((r) => r.sustained.reply.p99))} | - | ${mr(col((r) => r.bareQueue.done.p99))} | < 250 | ${verdict(runs, (r) => r.sustained.reply.p99 < 250)} |`,
    `| Inbound to reply p99 after the first ${sms.BENCH_SMS_THINK} s (steady state), ms | ${mr(col((r) => r.sustained.steadyReply.p99))} | - | - | - | - |`,
    `| Webhooks answered other than 200 | ${mr(
      col((r) => r.sustained.failed),
      0,
    )}${statuses(runs.map((r) => r.sustained.failedBy))} | ${mr(
      col((r) => r.bareHttp.failed),
      0,
    )} | ${mr(
      col((r) => r.bareQueue.failed),
      0,
    )} | 0 | ${verdict(runs, (r) => r.sustained.failed === 0)} |`,
    `| Generator's latest send, ms late | ${mr(
      col((r) => r.sustained.maxLagMs),
      0,
    )} | ${mr(
      col((r) => r.bareHttp.maxLagMs),
      0,
    )} | ${mr(
      col((r) => r.bareQueue.maxLagMs),
      0,
    )} | - | the load generator kept up |`,
    `| Idle conversations (${c} texts/s): reply p50 / p99, ms | ${mr(col((r) => r.idle.reply.p50))} / ${mr(col((r) => r.idle.reply.p99))} | - | - | - | - |`,
    `| During the blast (${c} texts/s): reply p50 / p99, ms | ${mr(col((r) => r.blast.during.reply.p50))} / ${mr(col((r) => r.blast.during.reply.p99))} | - | - | < 1000 | ${verdict(runs, (r) => r.blast.during.reply.p99 < 1000 && r.blast.during.unanswered === 0)} |`,
    `| Blast reply p99 / idle reply p99 | ${mr(col(blastVsIdle), 2)} | - | - | <= 2 | ${verdict(runs, (r) => blastVsIdle(r) <= 2)} |`,
    `| Reminders handed / sent twice | ${mr(
      col((r) => r.blast.handed),
      0,
    )} / ${Math.max(...col((r) => r.blast.dupes))} | - | - | ${n0(n)} / 0 | ${verdict(runs, (r) => r.blast.handed === n && r.blast.dupes === 0)} |`,
    `| Blast: first reminder, s after due | ${mr(
      col((r) => r.blast.firstS),
      2,
    )} | - | - | - | - |`,
    `| Most messages in a one-second window / rate | ${mr(col(windowRatio), 2)} (${mr(
      col((r) => r.blast.maxWindow),
      0,
    )}; reminders alone ${mr(
      col((r) => r.blast.maxWindowReminders),
      0,
    )}) | - | - | <= 1.1 | ${verdict(runs, (r) => windowRatio(r) <= 1.1)} |`,
    `| Total blast time / (N / rate) | ${mr(col(timeRatio), 2)} (${mr(
      col((r) => r.blast.allS),
      0,
    )} s for ${planned.toFixed(0)} s; ${mr(
      col((r) => r.blast.repliesDuring),
      0,
    )} replies in it)${unfinished(runs, n)} | - | - | <= 1.05 | ${verdict(runs, (r) => r.blast.finished && timeRatio(r) <= 1.05)} |`,
    `| Load average (1 min): sustained, idle, blast | ${runs
      .map((r) => `${r.sustained.load}, ${r.idle.load}, ${r.blast.load}`)
      .join('; ')} | ${runs.map((r) => r.bareHttp.load).join(', ')} | ${runs
      .map((r) => r.bareQueue.load)
      .join(', ')} | - | shared machine |`,
    '',
  ];
  return lines.join('\n');
}
