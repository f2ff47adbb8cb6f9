import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pino from 'pino';
import { closeQueues, createQueues } from '../../src/scheduler/queues.js';
import { openDb } from '../../src/store/db.js';
import { localTwilioGateway, outboundWorker } from './stall-worker.js';

/**
 * A worker process of test/scheduler/event-loop-stall.test.ts and
 * test/runner/sigkill-after-accept.test.ts: Linkline's outbound processor on a short-lock
 * Worker, its gateway reading bodies back from the outbox (so it can reconcile a send another
 * process started). Optional: SMS_RESEND_AFTER_SECONDS, HTTP_TIMEOUT_MS (2,000). Starts on
 * `start` from stdin and reports on stdout, one JSON line each: `ready`, `running`,
 * `stalled` (the job it found stalled), `run` (what the processor did), `completed`. No bodies
 * or numbers are printed.
 */
const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
/** Also appended to EVENTS_FILE: a parent whose loop is blocked can still read that. */
const say = (line: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
  appendFileSync(env('EVENTS_FILE'), `${JSON.stringify(line)}\n`);
};

const logger = pino({ level: 'silent' });
const db = await openDb({ databaseUrl: env('DATABASE_URL'), max: 4 });
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const prefix = env('QUEUE_PREFIX');
const queues = createQueues(redis, prefix);
const resendAfter = Number(process.env.SMS_RESEND_AFTER_SECONDS ?? 0);
const twilio = localTwilioGateway(env('TWILIO_API_URL'), logger, {
  db,
  httpTimeoutMs: Number(process.env.HTTP_TIMEOUT_MS ?? 2_000),
  ...(resendAfter > 0 ? { resendAfterMs: resendAfter * 1000 } : {}),
});
const worker = outboundWorker({
  db,
  redis,
  queues,
  prefix,
  logger,
  gateway: twilio.gateway,
  lockMs: Number(env('LOCK_MS')),
  stalledMs: Number(env('STALLED_MS')),
  autorun: false,
  onRun: (jobId, outcome) => say({ event: 'run', jobId, outcome }),
});
worker.on('stalled', (jobId) => say({ event: 'stalled', jobId }));
worker.on('completed', (job) => say({ event: 'completed', jobId: job.id }));
worker.on('error', (err) => say({ event: 'error', reason: err.message }));

const stop = async () => {
  await worker.close();
  await closeQueues(queues);
  redis.disconnect();
  twilio.close();
  await db.close();
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') {
    void worker.run();
    say({ event: 'running' });
  }
  if (line === 'stop') void stop();
});
await worker.waitUntilReady();
say({ event: 'ready' });
