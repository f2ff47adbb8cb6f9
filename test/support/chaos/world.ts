import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { seedLinkWorkers } from '../../../src/channels/slack/sandbox-seed.js';
import { loadConfig } from '../../../src/config/load.js';
import { registerRoutes } from '../../../src/http/routes.js';
import { createLogger, type Logger } from '../../../src/log.js';
import { buildService, SANDBOX_TWILIO, type Service } from '../../../src/main.js';
import { type SlackFake, startSlackFake } from '../../../src/sandbox/slack/index.js';
import { startTwilioFake, type TwilioFake } from '../../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../../src/scheduler/queues.js';
import { type Running, start } from '../../../src/serve.js';
import { type Db, openDb } from '../../../src/store/db.js';
import { migrate } from '../../../src/store/migrate.js';
import { TEST_DATABASE_URL } from '../../store/drivers.js';
import { type OwnRedis, startOwnRedis } from '../own-redis.js';
import { signalProgram } from './procs.js';

/** Our number: the one participants text. */
export const OUR_NUMBER = SANDBOX_TWILIO.from ?? '+447700900000';

/** One `linkline worker` child process, with the tail of its output for post-mortems. */
export interface WorkerProc {
  readonly child: ChildProcess;
  readonly ready: Promise<void>;
  tail(): string;
}

/**
 * Everything the chaos suite runs against, all its own: a Redis it may kill (AOF everysec),
 * a fresh PostgreSQL schema, the local Twilio, the composed HTTP service in this process
 * (WORKERS=off, as behind a load balancer) and `linkline worker` child processes.
 */
export interface World {
  readonly db: Db;
  readonly redis: OwnRedis;
  /** The suite's own connection and queues (to schedule reminders, as the admin API does). */
  readonly admin: Redis;
  readonly queues: Queues;
  readonly prefix: string;
  readonly fake: TwilioFake;
  /** The local Slack every process talks to (SLACK_API_URL): hand-off threads live here. */
  readonly slack: SlackFake;
  readonly service: Service;
  readonly http: Running;
  readonly publicUrl: string;
  readonly workers: WorkerProc[];
  /** Every worker process spawned, killed ones included. */
  readonly spawned: WorkerProc[];
  spawnWorker(): WorkerProc;
  /** SIGKILLs one running worker (the oldest live one unless told); resolves when it is gone. */
  killWorker(which?: WorkerProc): Promise<WorkerProc | null>;
  close(): Promise<void>;
}

const TAIL_CHARS = 4_000;

function waitLine(child: ChildProcess, pattern: RegExp, read: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = () => {
      if (pattern.test(read())) {
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`worker exited (${code ?? signal}) before it was ready: ${read()}`)),
    );
  });
}

export async function startWorld(opts: { logger?: Logger } = {}): Promise<World> {
  const redis = await startOwnRedis({ aof: true });
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, max: 10 });
  await migrate(db);
  const prefix = `llchaos-${randomBytes(4).toString('hex')}`;
  const port = 23_000 + Math.floor(Math.random() * 4000);
  const publicUrl = `http://127.0.0.1:${port}`;
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    webhookUrl: `${publicUrl}/sms/inbound`,
    statusCallbacks: false,
  });
  // One local Slack for the HTTP service and every worker (each would start its own otherwise).
  const slack = await startSlackFake({
    requestUrls: {
      events: `${publicUrl}/slack/events`,
      interactivity: `${publicUrl}/slack/actions`,
      commands: `${publicUrl}/slack/commands`,
    },
  });
  await seedLinkWorkers(db, slack.users());
  const databaseUrl = `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redis.url,
    QUEUE_PREFIX: prefix,
    TWILIO_API_URL: fake.url,
    SLACK_API_URL: slack.apiUrl,
    // Always staffed: no out-of-hours notice in the hand-off participants' texts.
    STAFFED_HOURS: 'Mon-Sun 00:00-23:59',
    PUBLIC_URL: publicUrl,
    SMS_RATE: '0',
    // The local Twilio's resets here are instant (nothing reaches it late: that case has its
    // own test, test/channels/sms/late-accept.test.ts), so a reset before accept is sent again
    // after 20 s rather than 120, inside the suite's settle time.
    SMS_RESEND_AFTER_SECONDS: '20',
    LOG_LEVEL: 'info',
  };
  const config = loadConfig({
    ...env,
    PORT: String(port),
    HOST: '127.0.0.1',
    WORKERS: 'off',
    LOG_LEVEL: 'silent',
  });
  // CHAOS_LOG=file: the HTTP process's log (info), for a post-mortem of a failed run.
  const logger =
    opts.logger ??
    (process.env.CHAOS_LOG
      ? createLogger({ level: 'info', destination: pino.destination(process.env.CHAOS_LOG) })
      : createLogger({ level: 'silent' }));
  const service = await buildService(config, logger);
  // Redis going away is the point here: keep BullMQ's connection errors off the console.
  for (const q of Object.values(service.queues)) q.on('error', () => undefined);
  const http = await start(config, logger, {
    extraChecks: { db: async () => void (await service.db.query('SELECT 1')) },
    register: (app) => registerRoutes(app, service, logger),
    onClose: () => service.close(),
  });
  const admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  admin.on('error', () => undefined);
  const queues = createQueues(admin, prefix);
  for (const q of Object.values(queues)) q.on('error', () => undefined);

  const workers: WorkerProc[] = [];
  const spawned: WorkerProc[] = [];
  const spawnWorker = (): WorkerProc => {
    const child = spawn('node_modules/.bin/tsx', ['src/cli/main.ts', 'worker'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const proc: WorkerProc = {
      child,
      ready: waitLine(child, /linkline worker running/, () => out),
      tail: () => out,
    };
    proc.ready.catch(() => undefined);
    child.once('exit', () => {
      const i = workers.indexOf(proc);
      if (i >= 0) workers.splice(i, 1);
    });
    workers.push(proc);
    spawned.push(proc);
    return proc;
  };
  const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

  return {
    db,
    redis,
    admin,
    queues,
    prefix,
    fake,
    slack,
    service,
    http,
    publicUrl,
    workers,
    spawned,
    spawnWorker,
    async killWorker(which) {
      const victim = which ?? workers.find((w) => alive(w.child));
      if (!victim || !alive(victim.child)) return null;
      await victim.ready.catch(() => undefined);
      if (!alive(victim.child)) return null;
      const gone = new Promise((r) => victim.child.once('exit', r));
      signalProgram(victim.child, 'SIGKILL');
      await gone;
      return victim;
    },
    async close() {
      await Promise.all(
        spawned
          .filter((w) => alive(w.child))
          .map((w) => {
            const gone = new Promise((r) => w.child.once('exit', r));
            try {
              signalProgram(w.child, 'SIGKILL');
            } catch {
              w.child.kill('SIGKILL');
            }
            return gone;
          }),
      );
      await http.close().catch(() => undefined);
      await closeQueues(queues).catch(() => undefined);
      admin.disconnect();
      await fake.stop();
      await slack.stop();
      await redis.stop();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
