/**
 * One run of the scheduler benchmark (issue 3): a bare-BullMQ drain, then Linkline's
 * burst, Redis memory per pending reminder, the burst again with a far-future backlog, and
 * idle Redis traffic, all on a private Redis and a fresh PostgreSQL schema.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { SANDBOX_TWILIO } from '../src/main.js';
import { startTwilioFake, type TwilioFake } from '../src/sandbox/twilio/index.js';
import {
  closeQueues,
  createQueues,
  EVENTS_MAX_LEN,
  JOB_DEFAULTS,
} from '../src/scheduler/queues.js';
import { enqueueItems, type ItemToEnqueue } from '../src/scheduler/sink.js';
import type { Db } from '../src/store/db.js';
import {
  ask,
  type BenchEnv,
  benchSchema,
  children,
  load1,
  log,
  pgCpuSampler,
  redisNumbers,
  sleep,
} from './lib.js';
import { startProbe } from './sms-probe-read.js';

export interface BurstResult {
  n: number;
  handed: number;
  dupes: number;
  /** Due time to the first hand-off, seconds. */
  firstS: number;
  /** Due time to the last hand-off, seconds. */
  allS: number;
  /** Hand-offs per second from the due time to the last. */
  rate: number;
  pgCpu: number;
  load: number;
}

export interface BareResult {
  n: number;
  firstS: number;
  allS: number;
  rate: number;
  idleCmdsPerProc: number;
}

export interface RunResult {
  bare: BareResult;
  burst: BurstResult;
  backlog: (BurstResult & { backlog: number }) | null;
  memory: { bytesPerReminder: number; rssBytesPerReminder: number; bareBytesPerJob: number };
  idleCmdsPerProc: number;
  workerRssMiB: number;
  enqueueS: number;
}

/** Sum of VmRSS over a process and its descendants (tsx runs node as a child), in bytes. */
export async function treeRss(rootPid: number): Promise<number> {
  const parent = new Map<number, number>();
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = await readFile(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.split(') ')[1]!.split(' ')[1]));
    } catch {
      // gone
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p: number | undefined = pid; p && p > 1; p = parent.get(p))
      if (p === rootPid) return true;
    return false;
  };
  let total = 0;
  for (const pid of parent.keys()) {
    if (!inTree(pid)) continue;
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      total += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
    } catch {
      // gone
    }
  }
  return total;
}

const BARE_QUEUE = 'reminders';

/** The same number of no-op jobs through bare BullMQ workers (the baseline). */
export async function bareDrain(
  redisUrl: string,
  env: BenchEnv,
  n: number,
): Promise<BareResult & { bytesPerJob: number }> {
  const prefix = `bare-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(BARE_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: JOB_DEFAULTS,
    streams: { events: { maxLen: EVENTS_MAX_LEN } },
  });
  const kids = children();
  try {
    for (let i = 0; i < env.BENCH_WORKERS; i++)
      await kids.spawnBare({ REDIS_URL: redisUrl, QUEUE_PREFIX: prefix, QUEUE_NAME: BARE_QUEUE });
    while ((await queue.getWorkersCount()) < env.BENCH_WORKERS) await sleep(100);
    const before = await redisNumbers(redis);
    // Enqueued an hour ahead, then promoted at once: a slow enqueue on a loaded machine does
    // not mix into the drain.
    for (let i = 0; i < n; i += 5_000) {
      await queue.addBulk(
        Array.from({ length: Math.min(5_000, n - i) }, (_, k) => ({
          name: 'reminder_day_before',
          data: { itemId: '00000000-0000-4000-8000-000000000000', version: 1 },
          opts: { jobId: `si-bare-${i + k}-v1`, delay: 3_600_000 },
        })),
      );
    }
    const after = await redisNumbers(redis);
    await sleep(1_000);
    const due = Date.now();
    await queue.promoteJobs({ count: 5_000 });
    const counts = async () => {
      const rs = await Promise.all(
        kids.list.map((c) => ask<{ count: number; first: number; last: number }>(c, 'report')),
      );
      return {
        count: rs.reduce((a, r) => a + r.count, 0),
        first: Math.min(...rs.filter((r) => r.count > 0).map((r) => r.first)),
        last: Math.max(...rs.map((r) => r.last)),
      };
    };
    let c = await counts();
    const deadline = due + 120_000 + n;
    while (c.count < n && Date.now() < deadline) {
      await sleep(200);
      c = await counts();
    }
    // Idle: the bare workers connected, nothing due.
    await sleep(1_000);
    const i0 = await redisNumbers(redis);
    await sleep(10_000);
    const i1 = await redisNumbers(redis);
    const idle = (i1.cmds - i0.cmds - 2) / 10 / env.BENCH_WORKERS;
    return {
      n: c.count,
      firstS: (c.first - due) / 1000,
      allS: (c.last - due) / 1000,
      rate: c.count / ((c.last - due) / 1000),
      idleCmdsPerProc: idle,
      bytesPerJob: (after.used - before.used) / n,
    };
  } finally {
    await kids.stopAll();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
  }
}

/** Participants p0..p(count-1) from `from`, each booked onto one new session with a reminder due at `due`. */
export async function seedBurst(db: Db, from: number, count: number, due: Date): Promise<string> {
  const { rows } = await db.query<{ id: string }>(
    `WITH a AS (INSERT INTO activities (name, location, description)
       VALUES ('Art Club ' || $1::text, 'the Library', 'Painting and a cup of tea') RETURNING id)
     INSERT INTO sessions (activity_id, starts_at, ends_at)
     SELECT id, now() + interval '20 hours', now() + interval '22 hours' FROM a RETURNING id`,
    [String(from)],
  );
  const sessionId = rows[0]!.id;
  await db.query(
    `INSERT INTO participants (ref, phone, consent, consent_at, quiet_start, quiet_end)
     SELECT 'P-' || lpad(upper(to_hex(i)), 6, '0'), '+4477' || lpad(i::text, 8, '0'), 'given', now(), '00:00', '00:00'
     FROM generate_series($1::int, $2::int) AS i`,
    [from, from + count - 1],
  );
  await db.query(
    `INSERT INTO bookings (participant_id, session_id)
     SELECT id, $1 FROM participants WHERE phone >= '+4477' || lpad($2::text, 8, '0')
       AND phone <= '+4477' || lpad($3::text, 8, '0')`,
    [sessionId, from, from + count - 1],
  );
  await db.query(
    `INSERT INTO scheduled_items (item_key, kind, participant_id, booking_id, session_id, due_at)
     SELECT 'reminder_day_before|p=' || b.participant_id || '|b=' || b.id || '|s=' || b.session_id || '|c=|slot=',
       'reminder_day_before', b.participant_id, b.id, b.session_id, $2
     FROM bookings b WHERE b.session_id = $1`,
    [sessionId, due],
  );
  await db.exec('ANALYZE');
  return sessionId;
}

/** Far-future reminders (30-60 days out): rows in PostgreSQL, beyond the enqueue horizon. */
async function seedBacklog(db: Db, count: number, participantsFrom: number, participants: number) {
  for (let done = 0; done < count; done += 100_000) {
    await db.query(
      `INSERT INTO scheduled_items (item_key, kind, participant_id, due_at)
       SELECT 'reminder_day_before|p=' || p.id || '|b=|s=|c=|slot=far' || g.i,
         'reminder_day_before', p.id, now() + interval '30 days' + (g.i % 2592000) * interval '1 second'
       FROM generate_series($1::int, $2::int) AS g(i)
       JOIN participants p ON p.phone = '+4477' || lpad(($3::int + g.i % $4::int)::text, 8, '0')`,
      [done, Math.min(count, done + 100_000) - 1, participantsFrom, participants],
    );
  }
  await db.exec('ANALYZE');
}

async function burst(
  db: Db,
  redis: Redis,
  prefix: string,
  fake: TwilioFake,
  sessionId: string,
  n: number,
): Promise<{ result: BurstResult; enqueueS: number; bytes: number; rssBytes: number }> {
  const queues = createQueues(redis, prefix);
  const before = await redisNumbers(redis);
  const t0 = Date.now();
  const { rows } = await db.query<ItemToEnqueue>(
    `SELECT id, version, kind, due_at AS "dueAt", job_id AS "jobId", state FROM scheduled_items WHERE session_id = $1`,
    [sessionId],
  );
  // The reminders are due in an hour: enqueued as delayed jobs exactly as the sink does, then
  // promoted at once (the due time), so that a slow enqueue on a loaded machine does not mix
  // into the burst.
  for (let i = 0; i < rows.length; i += 5_000)
    await enqueueItems(db, queues, rows.slice(i, i + 5_000), new Date());
  const enqueueS = (Date.now() - t0) / 1000;
  const after = await redisNumbers(redis);
  const baseline = fake.messages().length;
  await sleep(1_000);
  // The rows are made due a little ahead and the jobs promoted at that time, as the bare
  // baseline's are: the UPDATE of n rows is the benchmark's set-up, not Linkline's work, and
  // the clock starts at the due time for both.
  const due = new Date(Date.now() + Math.max(1_000, n / 10));
  const u0 = Date.now();
  await db.query('UPDATE scheduled_items SET due_at = $1 WHERE session_id = $2', [due, sessionId]);
  const probe = await startProbe(redis);
  const lateMs = Date.now() - due.getTime();
  log(`  burst set-up: due_at of ${n} rows set in ${Date.now() - u0} ms`);
  if (lateMs > 0) log(`  burst set-up ended ${lateMs} ms after the due time (counted in)`);
  else await sleep(-lateMs);
  await queues.reminders.promoteJobs({ count: 5_000 });
  const cpu = await pgCpuSampler();
  const load = load1();
  let seen = 0;
  let lastProgress = Date.now();
  while (true) {
    await sleep(500);
    const now = fake.messages().length - baseline;
    if (now > seen) lastProgress = Date.now();
    seen = now;
    if (seen >= n || Date.now() - lastProgress > 30_000) break;
    if (Date.now() - due.getTime() > 30 * 60_000) break;
  }
  const pgCpu = await cpu.stop();
  // BENCH_PROBE_DIR: CPU ms per reminder by process and statements per reminder (sms-probe.ts).
  const probed = await probe.stop(n);
  if (probed) log(`  probe: ${probed}`);
  const mine = fake.messages().slice(baseline);
  const times = mine.map((m) => m.dateCreated.getTime());
  const first = Math.min(...times);
  // Where the first hand-off's time went: the first job fired (its transaction began), the
  // first reminder SMS written, the first one the sender claimed, then the fake's clock.
  const { rows: steps } = await db.query<{ fired: Date; written: Date; sent: Date | null }>(
    `SELECT (SELECT min(fired_at) FROM scheduled_items WHERE session_id = $1) AS fired,
       min(m.created_at) AS written, min(m.sent_at) AS sent
     FROM messages m JOIN bookings b ON b.participant_id = m.participant_id
     WHERE b.session_id = $1 AND m.kind = 'reminder' AND m.direction = 'out'`,
    [sessionId],
  );
  const at = (d: Date | null | undefined) =>
    d ? `${((d.getTime() - due.getTime()) / 1000).toFixed(3)} s` : '-';
  log(
    `  first: fired ${at(steps[0]?.fired)}, written ${at(steps[0]?.written)}, sent ${at(steps[0]?.sent)}, at the fake ${at(new Date(first))}`,
  );
  const last = Math.max(...times);
  const dupes = mine.length - new Set(mine.map((m) => m.to)).size;
  await closeQueues(queues);
  return {
    enqueueS,
    bytes: (after.used - before.used) / n,
    rssBytes: (after.rss - before.rss) / n,
    result: {
      n,
      handed: mine.length,
      dupes,
      firstS: (first - due.getTime()) / 1000,
      allS: (last - due.getTime()) / 1000,
      rate: mine.length / ((last - due.getTime()) / 1000),
      pgCpu,
      load,
    },
  };
}

export async function schedulerRun(redisUrl: string, env: BenchEnv): Promise<RunResult> {
  const n = env.BENCH_N;
  log(`bare BullMQ: ${n} delayed no-op jobs, ${env.BENCH_WORKERS} worker processes`);
  const bare = await bareDrain(redisUrl, env, n);
  log(`bare: ${bare.rate.toFixed(0)} jobs/s, all in ${bare.allS.toFixed(1)} s`);

  const schema = await benchSchema(env.BENCH_DATABASE_URL);
  const prefix = `bench-${randomBytes(3).toString('hex')}`;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    statusCallbacks: false,
  });
  const kids = children();
  try {
    const workerEnv = {
      DATABASE_URL: schema.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      TWILIO_API_URL: fake.url,
      SMS_RATE: '0',
      ...(process.env.BENCH_PROBE_DIR ? { BENCH_PROBE_DIR: process.env.BENCH_PROBE_DIR } : {}),
    };
    // Node 20 refuses --cpu-prof in NODE_OPTIONS: given on the command line (tsx passes it on).
    const profile = [
      ...(process.env.BENCH_PROFILE
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`]
        : []),
      ...(process.env.BENCH_PROBE_DIR ? ['--import', './bench/sms-probe.ts'] : []),
    ];
    log(`linkline: ${env.BENCH_WORKERS} worker processes`);
    for (let i = 0; i < env.BENCH_WORKERS; i++) await kids.spawnLinkline(workerEnv, profile);

    const inAnHour = () => new Date(Date.now() + 3_600_000);
    const s1 = await seedBurst(db(schema), 0, n, inAnHour());
    log(`burst: ${n} reminders`);
    const b1 = await burst(db(schema), redis, prefix, fake, s1, n);
    log(
      `burst: ${b1.result.handed}/${n} handed, first ${b1.result.firstS.toFixed(2)} s, all ${b1.result.allS.toFixed(1)} s, ${b1.result.rate.toFixed(0)}/s, PG CPU ${b1.result.pgCpu.toFixed(0)}%, ${b1.bytes.toFixed(0)} B/reminder`,
    );
    const workerRss = (await Promise.all(kids.list.map((c) => treeRss(c.pid!)))).reduce(
      (a, b) => a + b,
      0,
    );

    // Idle: workers connected, nothing due (the every-minute reconciler included).
    await sleep(2_000);
    const i0 = await redisNumbers(redis);
    await sleep(15_000);
    const i1 = await redisNumbers(redis);
    const idle = (i1.cmds - i0.cmds - 2) / 15 / env.BENCH_WORKERS;
    log(`idle: ${idle.toFixed(1)} Redis commands/s per worker process`);

    const backlog = env.BENCH_BACKLOG;
    const common = {
      bare,
      burst: b1.result,
      memory: {
        bytesPerReminder: b1.bytes,
        rssBytesPerReminder: b1.rssBytes,
        bareBytesPerJob: bare.bytesPerJob,
      },
      idleCmdsPerProc: idle,
      workerRssMiB: workerRss / env.BENCH_WORKERS / 2 ** 20,
      enqueueS: b1.enqueueS,
    };
    if (backlog === 0) return { ...common, backlog: null };
    log(`backlog: seeding ${backlog} far-future reminders`);
    const s2 = await seedBurst(db(schema), n, n, inAnHour());
    await seedBacklog(db(schema), backlog, n, n);
    const b2 = await burst(db(schema), redis, prefix, fake, s2, n);
    log(
      `burst with backlog: ${b2.result.handed}/${n}, first ${b2.result.firstS.toFixed(2)} s, all ${b2.result.allS.toFixed(1)} s, ${b2.result.rate.toFixed(0)}/s`,
    );
    return { ...common, backlog: { ...b2.result, backlog } };
  } finally {
    await kids.stopAll();
    await fake.stop();
    redis.disconnect();
    await schema.drop();
  }
}

const db = (s: { db: Db }) => s.db;
