/**
 * The baseline: one process with a bare BullMQ Worker (no-op processor) on one queue, as
 * the Linkline worker process runs its reminders queue. Counts completions; the benchmark
 * asks for the counts over IPC. Env: REDIS_URL, QUEUE_PREFIX, QUEUE_NAME, CONCURRENCY.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JOB_RETENTION } from '../src/scheduler/queues.js';

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
let count = 0;
let first = 0;
let last = 0;
const worker = new Worker(process.env.QUEUE_NAME ?? 'reminders', async () => undefined, {
  connection,
  prefix: process.env.QUEUE_PREFIX ?? 'bare',
  concurrency: Number(process.env.CONCURRENCY ?? 16),
  ...JOB_RETENTION,
});
worker.on('completed', () => {
  const now = Date.now();
  if (count === 0) first = now;
  last = now;
  count += 1;
});
worker.on('error', (err) => process.stderr.write(`worker error: ${err.message}\n`));

process.on('message', (m: { id: number; what: string }) => {
  if (m.what === 'report') process.send?.({ id: m.id, value: { count, first, last, dupes: 0 } });
});
process.once('SIGTERM', () => {
  void worker.close().finally(() => {
    connection.disconnect();
    process.exit(0);
  });
});
