/**
 * One mixed day at P participants (issue 7): a private Redis and a fresh PostgreSQL schema,
 * `linkline serve` (HTTP only) and BENCH_WORKERS `linkline worker` processes in production
 * mode against the local Twilio and Slack (through the real SDKs), P participants seeded and
 * booked, then the morning: every day-before reminder comes due at once, at a minute T chosen
 * ahead (bench/day-clock.ts; the service runs with REMINDER_DAY_BEFORE_AT = T, so its replans
 * plan them at T too), and the driver plays the replies, the hand-offs and the link workers'
 * answers through signed webhooks.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { createTwilioClient } from '../src/channels/sms/twilio-client.js';
import { SANDBOX_TWILIO } from '../src/main.js';
import { SANDBOX_BOT_TOKEN, SANDBOX_SIGNING_SECRET } from '../src/sandbox/slack/index.js';
import { startTwilioFake } from '../src/sandbox/twilio/index.js';
import { closeQueues, createQueues } from '../src/scheduler/queues.js';
import { enqueueItems, type ItemToEnqueue } from '../src/scheduler/sink.js';
import type { Db } from '../src/store/db.js';
import { DAY_ZONE, dayClock } from './day-clock.js';
import { startDayFakes } from './day-fakes.js';
import type { Shares } from './day-plan.js';
import { rssSampler, treeUse } from './day-procs.js';
import { seedDay } from './day-seed.js';
import { HANDOFFS, type MorningResult, playMorning } from './day-traffic.js';
import {
  type BenchEnv,
  benchSchema,
  children,
  load1,
  log,
  pgCpuSampler,
  redisNumbers,
  sleep,
} from './lib.js';
import { bareDrain } from './scheduler-run.js';

export interface DayOptions {
  p: number;
  group: number;
  shares: Shares;
  /** SMS_RATE for the workers: messages/s per sender, 0 = unpaced. */
  smsRate: number;
  /** The local Twilio posts queued/sent/delivered status callbacks, as Twilio does. */
  callbacks: boolean;
  /** A link worker's reading time before answering a new hand-off thread, ms. */
  thinkMs: number;
}

export interface DayResult {
  p: number;
  seedS: number;
  items: Record<string, number>;
  morning: MorningResult;
  /** Due time to the last message or Slack post, s. */
  totalS: number;
  /** Due time to the last reminder, s, and reminders per second over it. */
  remindersS: number;
  reminderRate: number;
  /** Peak RSS of each process (the HTTP one first), bytes. */
  rss: { http: number; workers: number[] };
  /** CPU time over the morning, ms. */
  cpu: { http: number; workers: number };
  pgCpu: number;
  /**
   * This process over the morning plays the traffic; a child process of its own plays the local
   * Twilio and Slack (fakesCpuMs). A busy event loop in the fakes slows every send and post the
   * service makes (ms).
   */
  driver: {
    cpuMs: number;
    fakesCpuMs: number;
    lagP99Ms: number;
    lagMaxMs: number;
    fakesLagP99Ms: number;
    fakesLagMaxMs: number;
  };
  redis: { before: number; afterSeed: number; after: number };
  pgBytes: number;
  load: number;
}

export interface Baselines {
  n: number;
  bareJobsPerS: number;
  bareAllS: number;
  sdkSendsPerS: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function schemaBytes(db: Db, schema: string): Promise<number> {
  const { rows } = await db.query<{ b: string }>(
    `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS b FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'm')`,
    [schema],
  );
  return Number(rows[0]?.b ?? 0);
}

/**
 * The day-before reminders (due at T, within the sink's hour), enqueued as delayed jobs
 * exactly as the sink does; the workers' reconcilers would get there too, only later.
 */
async function armReminders(db: Db, queues: ReturnType<typeof createQueues>): Promise<number> {
  const { rows } = await db.query<ItemToEnqueue>(
    `SELECT id, version, kind, due_at AS "dueAt", job_id AS "jobId", state FROM scheduled_items
     WHERE kind = 'reminder_day_before' AND state IN ('pending', 'enqueued')`,
  );
  for (let i = 0; i < rows.length; i += 5_000)
    await enqueueItems(db, queues, rows.slice(i, i + 5_000), new Date());
  return rows.length;
}

export async function dayRun(redisUrl: string, env: BenchEnv, o: DayOptions): Promise<DayResult> {
  const schema = await benchSchema(env.BENCH_DATABASE_URL);
  const prefix = `day-${randomBytes(3).toString('hex')}`;
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  // The local Twilio and Slack run in a process of their own (bench/day-fakes.ts).
  const fakes = await startDayFakes({
    twilio: {
      accountSid: SANDBOX_TWILIO.accountSid,
      authToken: SANDBOX_TWILIO.authToken,
      webhookUrl: `${publicUrl}/sms/inbound`,
      statusCallbacks: o.callbacks,
    },
    slack: {
      requestUrls: {
        events: `${publicUrl}/slack/events`,
        interactivity: `${publicUrl}/slack/actions`,
        commands: `${publicUrl}/slack/commands`,
      },
    },
  });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues = createQueues(redis, prefix);
  const kids = children();
  // T, the reminders' due time: chosen before the processes start, as they plan with it.
  const clock = dayClock(new Date(), o.p);
  log(
    `day P=${o.p}: reminders due at ${clock.dueDate} ${clock.dayBeforeAt} ${DAY_ZONE} (in ${((clock.due.getTime() - Date.now()) / 1000).toFixed(0)} s)`,
  );
  try {
    // Production mode: every credential set, each pointing at the local fakes.
    const serviceEnv = {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PUBLIC_URL: publicUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      TWILIO_ACCOUNT_SID: SANDBOX_TWILIO.accountSid,
      TWILIO_AUTH_TOKEN: SANDBOX_TWILIO.authToken,
      TWILIO_FROM: SANDBOX_TWILIO.from ?? '+447700900000',
      TWILIO_API_URL: fakes.twilioUrl,
      SLACK_BOT_TOKEN: SANDBOX_BOT_TOKEN,
      SLACK_SIGNING_SECRET: SANDBOX_SIGNING_SECRET,
      SLACK_API_URL: fakes.slackApiUrl,
      SLACK_HANDOFF_CHANNEL: HANDOFFS,
      SLACK_REFERRALS_CHANNEL: 'C0REFERRAL',
      STAFFED_HOURS: 'Mon-Sun 00:00-23:59',
      SMS_RATE: String(o.smsRate),
      REMINDER_DAY_BEFORE_AT: clock.dayBeforeAt,
    };
    const before = (await redisNumbers(redis)).used;
    log(`day P=${o.p}: linkline serve (HTTP only) and ${env.BENCH_WORKERS} worker processes`);
    const http = await kids.spawnServe({ ...serviceEnv, WORKERS: 'off' });
    const workers = [];
    for (let i = 0; i < env.BENCH_WORKERS; i++) workers.push(await kids.spawnLinkline(serviceEnv));
    const t0 = Date.now();
    const seeded = await seedDay(schema.db, o.p, o.group, clock);
    const armed = await armReminders(schema.db, queues);
    const seedS = (Date.now() - t0) / 1000;
    const afterSeed = (await redisNumbers(redis)).used;
    log(`day P=${o.p}: seeded in ${seedS.toFixed(1)} s, ${armed} reminders armed`);
    const due = clock.due.getTime();
    // The seed planned at T only if it finished before T (after it, the plan skips them as
    // passed): a slower machine needs a longer lead (SEED_MS_PER_PARTICIPANT).
    if (armed < o.p || Date.now() > due - 1_000) {
      throw new Error(
        `day P=${o.p}: seeding ended ${((due - Date.now()) / 1000).toFixed(1)} s before the reminders' due time (under 1 s, or past it) with ${armed} of ${o.p} reminders armed; raise the lead in bench/day-clock.ts`,
      );
    }
    // The samplers start a second before T, as they did a second after the seed before.
    const wait = due - 1_000 - Date.now();
    log(`day P=${o.p}: waiting ${(wait / 1000 + 1).toFixed(0)} s for the reminders' due time`);
    await sleep(wait);

    const roots = [http.pid!, ...workers.map((w) => w.pid!)];
    const cpu0 = await treeUse(roots);
    const [fakes0] = await treeUse([fakes.pid]);
    const peaks = rssSampler(roots);
    const pg = await pgCpuSampler();
    const driverCpu = process.cpuUsage();
    const lag = monitorEventLoopDelay({ resolution: 20 });
    lag.enable();
    await fakes.lag(true);
    const load = load1();
    const morning = await playMorning(fakes, {
      p: o.p,
      shares: o.shares,
      width: 32,
      stallMs: 60_000,
      thinkMs: o.thinkMs,
      threadKnown: async (ts) =>
        (await schema.db.query('SELECT 1 FROM handoffs WHERE slack_thread_ts = $1', [ts])).rows
          .length > 0,
    });
    const pgCpu = await pg.stop();
    lag.disable();
    const fakesLag = await fakes.lag(false);
    const used = process.cpuUsage(driverCpu);
    const [fakes1] = await treeUse([fakes.pid]);
    const driver = {
      cpuMs: (used.user + used.system) / 1000,
      fakesCpuMs: (fakes1?.cpuMs ?? 0) - (fakes0?.cpuMs ?? 0),
      lagP99Ms: lag.percentile(99) / 1e6,
      lagMaxMs: lag.max / 1e6,
      fakesLagP99Ms: fakesLag.p99Ms,
      fakesLagMaxMs: fakesLag.maxMs,
    };
    // Where each day-before reminder ended up (fired, skipped with its reason, still due) and
    // what became of the SMS it wrote: a reminder the driver never saw is accounted for here.
    const { rows: fates } = await schema.db.query<{ fate: string; n: number }>(
      `SELECT s.state || coalesce(':' || s.skip_reason, '') || coalesce(' sms:' || m.status, '') AS fate,
         count(*)::int AS n
       FROM scheduled_items s
       LEFT JOIN messages m ON m.participant_id = s.participant_id AND m.direction = 'out' AND m.kind = 'reminder'
       WHERE s.kind = 'reminder_day_before' GROUP BY 1 ORDER BY 2 DESC`,
    );
    log(`day P=${o.p}: reminders ${fates.map((f) => `${f.fate} ${f.n}`).join(', ')}`);
    const peak = await peaks.stop();
    const cpu1 = await treeUse(roots);
    const spent = cpu1.map((c, i) => c.cpuMs - (cpu0[i]?.cpuMs ?? 0));
    const lastReminder = Math.max(...morning.reminderTimes);
    const remindersS = (lastReminder - due) / 1000;
    return {
      p: o.p,
      seedS,
      items: seeded.items,
      morning,
      totalS: (morning.lastAt - due) / 1000,
      remindersS,
      reminderRate: morning.reminders / remindersS,
      rss: { http: peak[0]!, workers: peak.slice(1) },
      cpu: { http: spent[0]!, workers: spent.slice(1).reduce((a, b) => a + b, 0) },
      pgCpu,
      driver,
      redis: { before, afterSeed, after: (await redisNumbers(redis)).used },
      pgBytes: await schemaBytes(schema.db, schema.schema),
      load,
    };
  } finally {
    await kids.stopAll();
    await queues.reminders.obliterate({ force: true }).catch(() => undefined);
    await closeQueues(queues);
    redis.disconnect();
    await fakes.stop();
    // BENCH_KEEP_SCHEMA=1 leaves the day's tables for a look afterwards (drop it by hand).
    if (process.env.BENCH_KEEP_SCHEMA) {
      log(`day P=${o.p}: schema ${schema.schema} kept`);
      await schema.db.close();
    } else await schema.drop();
  }
}

/** The raw SDK send rate: N messages through the twilio SDK straight to a fresh fake. */
async function sdkRate(n: number, width: number): Promise<number> {
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    statusCallbacks: false,
  });
  const client = createTwilioClient({ ...SANDBOX_TWILIO, apiUrl: fake.url }, 10_000);
  try {
    let next = 0;
    const t0 = Date.now();
    await Promise.all(
      Array.from({ length: width }, async () => {
        while (next < n) {
          const i = next;
          next += 1;
          await client.api.messages.create({
            to: `+4477${String(i).padStart(8, '0')}`,
            from: SANDBOX_TWILIO.from ?? '+447700900000',
            body: 'Reminder: Art Club is tomorrow at 10:00, the Library.',
          });
        }
      }),
    );
    return n / ((Date.now() - t0) / 1000);
  } finally {
    client.close();
    await fake.stop();
  }
}

/** Baselines for P in the same run: a bare BullMQ drain and the raw SDK send rate. */
export async function dayBaselines(redisUrl: string, env: BenchEnv, n: number): Promise<Baselines> {
  const bare = await bareDrain(redisUrl, env, n);
  const sdk = await sdkRate(n, 16);
  log(`baselines: bare BullMQ ${bare.rate.toFixed(0)} jobs/s, SDK to the fake ${sdk.toFixed(0)}/s`);
  return { n, bareJobsPerS: bare.rate, bareAllS: bare.allS, sdkSendsPerS: sdk };
}
