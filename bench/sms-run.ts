/**
 * One run of the SMS benchmark (issue 4). On a private Redis and a fresh PostgreSQL schema:
 * 1. baselines, at the sustained rate: (a) bare node:http answering the same signed POSTs,
 *    (b) signed webhook + BullMQ enqueue + no-op job (bench/sms-bare.ts);
 * 2. Linkline (bench/sms-serve.ts, HTTP only, plus BENCH_WORKERS `linkline worker`
 *    processes) with the local Twilio in this process, reached by the real SDK: virtual
 *    participants text the intake through signed webhooks at a steady (open-loop) rate;
 * 3. conversations at a lower rate, first idle, then during a reminder blast of
 *    BENCH_SMS_BLAST reminders paced at BENCH_SMS_RATE (SMS_RATE of the service).
 * Latencies: "ack" is the webhook POST to its answer; "reply" is the webhook POST to the
 * fake receiving Linkline's reply (the next conversation message) through the SDK.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { SANDBOX_TWILIO } from '../src/main.js';
import {
  type InboundDelivery,
  type InboundInput,
  startTwilioFake,
  type TwilioFake,
} from '../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../src/scheduler/queues.js';
import { enqueueItems, type ItemToEnqueue } from '../src/scheduler/sink.js';
import { INTAKE } from '../test/support/chaos/traffic.js';
import {
  ask,
  type BenchEnv,
  benchSchema,
  type Children,
  children,
  load1,
  log,
  sleep,
} from './lib.js';
import { seedBurst } from './scheduler-run.js';
import {
  Conversations,
  lanesFor,
  maxInWindow,
  pairReplies,
  type Stamp,
  type Summary,
  slotAt,
  slotsDue,
  summarize,
} from './sms-load.js';
import { startProbe } from './sms-probe-read.js';

const smsSchema = z.object({
  BENCH_SMS_CONVO_RATE: z.coerce.number().positive().default(200),
  BENCH_SMS_SECONDS: z.coerce.number().positive().default(30),
  BENCH_SMS_BLAST: z.coerce.number().int().min(10).default(100_000),
  BENCH_SMS_RATE: z.coerce.number().positive().default(500),
  BENCH_SMS_BLAST_CONVO_RATE: z.coerce.number().positive().default(10),
  BENCH_SMS_THINK: z.coerce.number().positive().default(4),
  BENCH_SMS_BLAST_WAIT: z.coerce.number().min(1).default(3),
  BENCH_SMS_CALLBACKS: z
    .enum(['0', '1'])
    .default('0')
    .transform((v) => v === '1'),
});

export type SmsEnv = z.infer<typeof smsSchema>;

export function smsEnv(): SmsEnv {
  const r = smsSchema.safeParse(process.env);
  if (!r.success) {
    process.stderr.write(`bad SMS benchmark settings: ${z.prettifyError(r.error)}\n`);
    process.exit(2);
  }
  return r.data;
}

const OUR_NUMBER = SANDBOX_TWILIO.from ?? '+447700900000';
/** Reminder recipients are +4477..., conversations +4479..., baselines +4478... (all mobiles). */
const convoPhone = (base: number) => (n: number) => `+4479${String(base + n).padStart(8, '0')}`;
const barePhone = (n: number) => `+4478${String(n).padStart(8, '0')}`;

export interface Phase {
  rate: number;
  seconds: number;
  sent: number;
  /** Answers other than 200 (or no answer). */
  failed: number;
  /** Those answers by status ("none": no answer within Twilio's 15 s). */
  failedBy: Record<string, number>;
  ack: Summary;
  reply: Summary;
  /** Replies to texts sent after the first think time, when one text in 12 starts a conversation. */
  steadyReply: Summary;
  unanswered: number;
  extra: number;
  /** How late the generator fired its latest send, ms (it never waits for replies). */
  maxLagMs: number;
  participants: number;
  load: number;
}

export interface BlastResult {
  n: number;
  rate: number;
  handed: number;
  dupes: number;
  /** Promotion (due) to the first and last reminder at the fake, s. */
  firstS: number;
  allS: number;
  /** Every reminder arrived; otherwise the wait stopped `stoppedS` after the due time. */
  finished: boolean;
  stoppedS: number;
  /** Most outbound messages (reminders and replies) in any one-second window at the fake. */
  maxWindow: number;
  maxWindowReminders: number;
  /** Replies sent during the blast window (they take the sender's slots too). */
  repliesDuring: number;
  during: Phase;
  load: number;
}

export interface SmsRunResult {
  bareHttp: Phase;
  bareQueue: Phase & { done: Summary };
  sustained: Phase;
  idle: Phase;
  blast: BlastResult;
}

interface Sent extends Stamp {
  sid: string;
}

type Post = (input: InboundInput) => Promise<InboundDelivery>;

interface Driven {
  texts: Sent[];
  acks: number[];
  failed: number;
  failedBy: Record<string, number>;
  maxLagMs: number;
  load: number;
  /** ms epoch */
  startedAt: number;
}

/**
 * Open loop: send i goes at i / rate seconds after the start whatever became of the earlier
 * ones; each text is posted signed through the fake, like Twilio does.
 */
async function drive(
  post: Post,
  rate: number,
  seconds: number,
  convo: Conversations,
): Promise<Driven> {
  const count = Math.max(1, Math.round(rate * seconds));
  const texts: Sent[] = [];
  const acks: number[] = [];
  const inFlight: Promise<void>[] = [];
  let failed = 0;
  const failedBy: Record<string, number> = {};
  let maxLagMs = 0;
  const load = load1();
  const startedAt = Date.now();
  const t0 = performance.now();
  let sent = 0;
  while (sent < count) {
    const elapsed = performance.now() - t0;
    const due = slotsDue(rate, count, elapsed);
    for (; sent < due; sent++) {
      maxLagMs = Math.max(maxLagMs, elapsed - slotAt(rate, sent));
      const turn = convo.next();
      const at = Date.now();
      inFlight.push(
        post({ from: turn.phone, to: OUR_NUMBER, body: turn.body }).then((d) => {
          acks.push(Date.now() - at);
          if (d.status !== 200) {
            failed += 1;
            const key = String(d.status ?? 'none');
            failedBy[key] = (failedBy[key] ?? 0) + 1;
          }
          texts.push({ phone: turn.phone, at, sid: d.messageSid });
        }),
      );
    }
    if (sent < count) await sleep(Math.max(1, slotAt(rate, sent) - (performance.now() - t0)));
  }
  await Promise.all(inFlight);
  return { texts, acks, failed, failedBy, maxLagMs, load, startedAt };
}

/** Waits until every text has its reply, or nothing new arrived for `quietMs`. */
async function awaitReplies(
  fake: TwilioFake,
  phones: Set<string>,
  texts: number,
  quietMs = 30_000,
) {
  let seen = -1;
  let since = Date.now();
  while (true) {
    const n = fake.messages().filter((m) => phones.has(m.to)).length;
    if (n >= texts) return;
    if (n !== seen) {
      seen = n;
      since = Date.now();
    } else if (Date.now() - since > quietMs) return;
    await sleep(500);
  }
}

/**
 * Waits (at most `capMs`) until no inbound or outbound job is waiting or running, so that a
 * phase's backlog does not spill into the next phase's measurement.
 */
async function settle(queues: Queues, capMs = 120_000): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < capMs) {
    const [i, o] = await Promise.all([
      queues.inbound.getJobCounts('waiting', 'active', 'prioritized'),
      queues.outbound.getJobCounts('waiting', 'active', 'prioritized'),
    ]);
    const left =
      Object.values(i).reduce((a, b) => a + b, 0) + Object.values(o).reduce((a, b) => a + b, 0);
    if (left === 0) break;
    await sleep(500);
  }
  return (Date.now() - t0) / 1000;
}

function phaseOf(
  fake: TwilioFake,
  d: Driven,
  rate: number,
  seconds: number,
  participants: number,
  thinkSeconds: number,
): Phase {
  const phones = new Set(d.texts.map((t) => t.phone));
  const replies = fake
    .messages()
    .filter((m) => phones.has(m.to))
    .map((m) => ({ phone: m.to, at: m.dateCreated.getTime() }));
  const pairing = pairReplies(d.texts, replies);
  const steadyFrom = d.startedAt + thinkSeconds * 1000;
  return {
    rate,
    seconds,
    sent: d.texts.length,
    failed: d.failed,
    failedBy: d.failedBy,
    ack: summarize(d.acks),
    reply: summarize(pairing.latencies),
    steadyReply: summarize(pairing.latencies.filter((_, i) => pairing.textAt[i]! >= steadyFrom)),
    unanswered: pairing.unanswered,
    extra: pairing.extra,
    maxLagMs: d.maxLagMs,
    participants,
    load: d.load,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Node flags for the service's processes: V8 CPU profiles into BENCH_PROFILE, if set. */
const profile = (which: 'http' | 'worker'): string[] => [
  ...(process.env.BENCH_PROFILE
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}/${which}`]
    : []),
  ...(process.env.BENCH_PROBE_DIR ? ['--import', './bench/sms-probe.ts'] : []),
];

async function baseline(
  kids: Children,
  fake: TwilioFake,
  redisUrl: string,
  mode: 'http' | 'queue',
  sms: SmsEnv,
  phoneBase: number,
): Promise<{ phase: Phase; done: Summary }> {
  const { child, output } = await kids.spawnScript(
    'bench/sms-bare.ts',
    {
      BARE_MODE: mode,
      PUBLIC_URL: 'http://127.0.0.1:1',
      AUTH_TOKEN: fake.authToken,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: `bare-sms-${randomBytes(3).toString('hex')}`,
    },
    /listening on \d+/,
  );
  const port = Number(/listening on (\d+)/.exec(output)?.[1]);
  // The signature covers the configured URL; the request goes to the child's real port.
  const convo = new Conversations(
    INTAKE,
    lanesFor(sms.BENCH_SMS_CONVO_RATE, sms.BENCH_SMS_THINK),
    (n) => barePhone(phoneBase + n),
  );
  const post: Post = (input) =>
    fake.sendInbound({
      ...input,
      signUrl: 'http://127.0.0.1:1/sms/inbound',
      postUrl: `http://127.0.0.1:${port}/sms/inbound`,
    });
  const d = await drive(post, sms.BENCH_SMS_CONVO_RATE, sms.BENCH_SMS_SECONDS, convo);
  let done: Summary = summarize([]);
  if (mode === 'queue') {
    await sleep(2_000);
    const at = new Map(d.texts.map((t) => [t.sid, t.at]));
    const entries = await ask<[string, number][]>(child, 'done');
    done = summarize(entries.flatMap(([sid, t]) => (at.has(sid) ? [t - at.get(sid)!] : [])));
  }
  await kids.stopAll();
  const phase: Phase = {
    rate: sms.BENCH_SMS_CONVO_RATE,
    seconds: sms.BENCH_SMS_SECONDS,
    sent: d.texts.length,
    failed: d.failed,
    failedBy: d.failedBy,
    ack: summarize(d.acks),
    reply: done,
    steadyReply: summarize([]),
    unanswered: 0,
    extra: 0,
    maxLagMs: d.maxLagMs,
    participants: convo.participants,
    load: d.load,
  };
  return { phase, done };
}

export async function smsRun(redisUrl: string, env: BenchEnv, sms: SmsEnv): Promise<SmsRunResult> {
  const n = sms.BENCH_SMS_BLAST;
  const fake0 = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    statusCallbacks: false,
  });
  const kids = children();
  let bareHttp: Phase;
  let bareQueue: Phase & { done: Summary };
  try {
    log(
      `baseline (a) bare node:http at ${sms.BENCH_SMS_CONVO_RATE}/s for ${sms.BENCH_SMS_SECONDS} s`,
    );
    bareHttp = (await baseline(kids, fake0, redisUrl, 'http', sms, 0)).phase;
    log(`  ack p50 ${bareHttp.ack.p50} ms, p99 ${bareHttp.ack.p99} ms`);
    log('baseline (b) signed webhook + enqueue + no-op BullMQ job');
    const q = await baseline(kids, fake0, redisUrl, 'queue', sms, 10_000_000);
    bareQueue = { ...q.phase, done: q.done };
    log(
      `  ack p99 ${bareQueue.ack.p99} ms, POST to job done p50 ${q.done.p50} ms, p99 ${q.done.p99} ms`,
    );
  } finally {
    await kids.stopAll();
    await fake0.stop();
  }

  const schema = await benchSchema(env.BENCH_DATABASE_URL);
  const prefix = `bench-sms-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    webhookUrl: `${publicUrl}/sms/inbound`,
    statusCallbacks: sms.BENCH_SMS_CALLBACKS,
  });
  const queues = createQueues(redis, prefix);
  try {
    const serviceEnv = {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      TWILIO_API_URL: fake.url,
      PUBLIC_URL: publicUrl,
      SMS_RATE: String(sms.BENCH_SMS_RATE),
      LOG_LEVEL: 'info',
      ...(process.env.BENCH_PROBE_DIR ? { BENCH_PROBE_DIR: process.env.BENCH_PROBE_DIR } : {}),
    };
    log(
      `linkline: HTTP process + ${env.BENCH_WORKERS} worker processes, SMS_RATE=${sms.BENCH_SMS_RATE}`,
    );
    await kids.spawnScript(
      'bench/sms-serve.ts',
      { ...serviceEnv, PORT: String(port), HOST: '127.0.0.1' },
      /bench http ready/,
      profile('http'),
    );
    for (let i = 0; i < env.BENCH_WORKERS; i++)
      await kids.spawnLinkline(serviceEnv, profile('worker'));

    // The blast's reminders, enqueued an hour ahead now so that neither seeding nor enqueueing
    // overlaps a measurement; promoted at once when the blast starts.
    log(`blast: seeding ${n} booked participants and their reminders`);
    const sessionId = await seedBurst(schema.db, 0, n, new Date(Date.now() + 3_600_000));
    const { rows } = await schema.db.query<ItemToEnqueue>(
      `SELECT id, version, kind, due_at AS "dueAt", job_id AS "jobId", state FROM scheduled_items WHERE session_id = $1`,
      [sessionId],
    );
    for (let i = 0; i < rows.length; i += 5_000)
      await enqueueItems(schema.db, queues, rows.slice(i, i + 5_000), new Date());

    const lanes = (rate: number) => lanesFor(rate, sms.BENCH_SMS_THINK);
    // Warm-up (not measured): connections, JIT, the first participants' rows.
    const post: Post = (input) => fake.sendInbound(input);
    await drive(post, 10, 3, new Conversations(INTAKE, 10, convoPhone(90_000_000)));

    const run = async (rate: number, seconds: number, base: number) => {
      const convo = new Conversations(INTAKE, lanes(rate), convoPhone(base));
      const d = await drive(post, rate, seconds, convo);
      return { d, convo };
    };
    log(
      `sustained: intake conversations at ${sms.BENCH_SMS_CONVO_RATE} texts/s for ${sms.BENCH_SMS_SECONDS} s (load ${load1()})`,
    );
    const probe = await startProbe(redis);
    const s = await run(sms.BENCH_SMS_CONVO_RATE, sms.BENCH_SMS_SECONDS, 0);
    await awaitReplies(fake, new Set(s.d.texts.map((t) => t.phone)), s.d.texts.length);
    const probed = await probe.stop(s.d.texts.length);
    if (probed) log(`  probe: ${probed}`);
    const sustained = phaseOf(
      fake,
      s.d,
      sms.BENCH_SMS_CONVO_RATE,
      sms.BENCH_SMS_SECONDS,
      s.convo.participants,
      sms.BENCH_SMS_THINK,
    );
    log(
      `  ${sustained.sent} texts, ack p99 ${sustained.ack.p99} ms, reply p50 ${sustained.reply.p50} ms p99 ${sustained.reply.p99} ms, unanswered ${sustained.unanswered}`,
    );

    const settled = await settle(queues);
    if (settled > 1) log(`  the backlog took ${settled.toFixed(0)} s to clear`);
    const blastConvoRate = sms.BENCH_SMS_BLAST_CONVO_RATE;
    log(`idle: conversations at ${blastConvoRate}/s for ${sms.BENCH_SMS_SECONDS} s`);
    const i = await run(blastConvoRate, sms.BENCH_SMS_SECONDS, 30_000_000);
    await awaitReplies(fake, new Set(i.d.texts.map((t) => t.phone)), i.d.texts.length);
    const idle = phaseOf(
      fake,
      i.d,
      blastConvoRate,
      sms.BENCH_SMS_SECONDS,
      i.convo.participants,
      sms.BENCH_SMS_THINK,
    );
    log(`  reply p50 ${idle.reply.p50} ms p99 ${idle.reply.p99} ms`);

    await settle(queues);
    const planned = n / sms.BENCH_SMS_RATE;
    log(
      `blast: ${n} reminders at ${sms.BENCH_SMS_RATE}/s (${planned.toFixed(0)} s planned), conversations at ${blastConvoRate}/s`,
    );
    await sleep(1_000);
    const blastLoad = load1();
    const due = Date.now();
    await schema.db.query('UPDATE scheduled_items SET due_at = $1 WHERE session_id = $2', [
      new Date(due),
      sessionId,
    ]);
    await queues.reminders.promoteJobs({ count: 5_000 });
    const b = await run(blastConvoRate, planned, 60_000_000);
    // The blast ends when every reminder is at the fake or none arrived for 30 s.
    const isReminder = (to: string) => to.startsWith('+4477');
    // ... or when the wait reached BENCH_SMS_BLAST_WAIT times the planned time (then the
    // table says how far it got).
    let handed = -1;
    let since = Date.now();
    const giveUp = due + Math.max(planned * sms.BENCH_SMS_BLAST_WAIT, planned + 60) * 1000;
    let finished = false;
    while (true) {
      const now = fake.messages().filter((m) => isReminder(m.to)).length;
      if (now >= n) {
        finished = true;
        break;
      }
      if (now !== handed) {
        handed = now;
        since = Date.now();
      } else if (Date.now() - since > 30_000) break;
      if (Date.now() > giveUp) break;
      await sleep(1_000);
    }
    const stoppedS = (Date.now() - due) / 1000;
    await awaitReplies(fake, new Set(b.d.texts.map((t) => t.phone)), b.d.texts.length);
    const during = phaseOf(
      fake,
      b.d,
      blastConvoRate,
      planned,
      b.convo.participants,
      sms.BENCH_SMS_THINK,
    );
    const out = fake.messages().filter((m) => m.dateCreated.getTime() >= due);
    const reminders = out.filter((m) => isReminder(m.to)).map((m) => m.dateCreated.getTime());
    const first = Math.min(...reminders);
    const last = Math.max(...reminders);
    const inBlast = out.map((m) => m.dateCreated.getTime()).filter((t) => t >= first && t <= last);
    const blast: BlastResult = {
      n,
      rate: sms.BENCH_SMS_RATE,
      handed: reminders.length,
      dupes: reminders.length - new Set(out.filter((m) => isReminder(m.to)).map((m) => m.to)).size,
      firstS: (first - due) / 1000,
      allS: (last - due) / 1000,
      finished,
      stoppedS,
      maxWindow: maxInWindow(inBlast),
      maxWindowReminders: maxInWindow(reminders),
      repliesDuring: inBlast.length - reminders.length,
      during,
      load: blastLoad,
    };
    log(
      `  ${blast.handed}/${n} reminders in ${blast.allS.toFixed(1)} s, max ${blast.maxWindow} in a second, reply p99 ${during.reply.p99} ms (idle ${idle.reply.p99} ms)`,
    );
    return { bareHttp, bareQueue, sustained, idle, blast };
  } finally {
    await kids.stopAll();
    await closeQueues(queues);
    await fake.stop();
    redis.disconnect();
    await schema.drop();
  }
}
