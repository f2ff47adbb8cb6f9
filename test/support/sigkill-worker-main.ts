import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import pino from 'pino';
import { twilioGateway } from '../../src/channels/sms/gateway.js';
import { createSmsSender } from '../../src/channels/sms/index.js';
import { SANDBOX_TWILIO } from '../../src/main.js';
import { closeQueues, createQueues } from '../../src/scheduler/queues.js';
import { openDb } from '../../src/store/db.js';
import { getMessage } from '../../src/store/repos/messages.js';
import { outboundWorker } from './stall-worker.js';

/**
 * A worker process for test/runner/sigkill-after-accept.test.ts: Linkline's outbound
 * processor on a short-lock Worker (stall-worker.ts), with the gateway wired as src/main.ts
 * wires it (the body read back from the outbox, so another process can reconcile a send it
 * did not start; SMS_RESEND_AFTER_SECONDS). Starts on `start` from stdin; reports on stdout,
 * one JSON line each: `ready`, `running`, `stalled`, `run` (the processor's outcome),
 * `completed`. No bodies or numbers are printed.
 */
const env = (name: string) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const say = (line: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
  appendFileSync(env('EVENTS_FILE'), `${JSON.stringify(line)}\n`);
};

const logger = pino({ level: 'silent' });
const db = await openDb({ databaseUrl: env('DATABASE_URL'), max: 4 });
const redis = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const prefix = env('QUEUE_PREFIX');
const queues = createQueues(redis, prefix);
const sender = createSmsSender(
  { ...SANDBOX_TWILIO, apiUrl: env('TWILIO_API_URL') },
  { logger, resendAfterMs: Number(env('SMS_RESEND_AFTER_SECONDS')) * 1000 },
);
const gateway = twilioGateway(sender, {
  publicUrl: 'http://127.0.0.1:9/',
  bodyOf: async (id) => (await getMessage(db, id))?.body ?? null,
});
const worker = outboundWorker({
  db,
  redis,
  queues,
  prefix,
  logger,
  gateway,
  lockMs: Number(env('LOCK_MS')),
  stalledMs: Number(env('STALLED_MS')),
  autorun: false,
  onRun: (jobId, outcome) => say({ event: 'run', jobId, outcome }),
});
worker.on('stalled', (jobId) => say({ event: 'stalled', jobId }));
worker.on('completed', (job) => say({ event: 'completed', jobId: job.id }));
worker.on('error', (err) => say({ event: 'error', reason: err.message }));

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') {
    void worker.run();
    say({ event: 'running' });
  }
  if (line === 'stop')
    void (async () => {
      await worker.close();
      await closeQueues(queues);
      redis.disconnect();
      sender.close();
      await db.close();
      process.exit(0);
    })();
});
await worker.waitUntilReady();
say({ event: 'ready' });
