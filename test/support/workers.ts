import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { SANDBOX_TWILIO } from '../../src/main.js';
import { startTwilioFake, type TwilioFake } from '../../src/sandbox/twilio/index.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { type Db, openDb } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { TEST_DATABASE_URL } from '../store/drivers.js';

/** A fresh PostgreSQL schema, a queue prefix and a local Twilio, shared by worker processes. */
export interface Cluster {
  db: Db;
  queues: Queues;
  redis: Redis;
  fake: TwilioFake;
  env: Record<string, string>;
  spawnWorker(): Promise<ChildProcess>;
  close(): Promise<void>;
}

function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(
      () => reject(new Error(`worker did not start: ${seen.slice(-500)}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited ${code}: ${seen.slice(-500)}`)));
  });
}

export async function startCluster(): Promise<Cluster> {
  const schema = `ll_test_${randomBytes(6).toString('hex')}`;
  const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema, max: 10 });
  await migrate(db);
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const queues = createQueues(redis, prefix);
  const fake = await startTwilioFake({
    accountSid: SANDBOX_TWILIO.accountSid,
    authToken: SANDBOX_TWILIO.authToken,
    statusCallbacks: false,
  });
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: `${TEST_DATABASE_URL}?options=${encodeURIComponent(`-c search_path=${schema}`)}`,
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    TWILIO_API_URL: fake.url,
    LOG_LEVEL: 'info',
    SMS_RATE: '0',
    // A send cut off by a SIGKILL is reconciled once its 45 s lease lapses; the local Twilio
    // here never creates a message late, so "not found" may count from 20 s.
    SMS_RESEND_AFTER_SECONDS: '20',
  };
  const children: ChildProcess[] = [];
  return {
    db,
    queues,
    redis,
    fake,
    env,
    async spawnWorker() {
      // Node itself with tsx's loader, not the tsx wrapper: a SIGKILL must reach the worker
      // (the wrapper does not pass SIGKILL on, which left the worker running).
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      await waitForLine(child, /linkline worker running/);
      return child;
    },
    async close() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(
        Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
      );
      await closeQueues(queues);
      redis.disconnect();
      await fake.stop();
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    },
  };
}
