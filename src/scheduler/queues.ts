import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { ScheduledItemKind } from '../store/enums.js';

/** One queue per kind of work, so a reminder blast never sits in front of a reply. */
export const QUEUE_NAMES = [
  'inbound',
  'outbound',
  'timers',
  'reminders',
  'nudges',
  'maintenance',
] as const;
export type QueueName = (typeof QUEUE_NAMES)[number];
export type Queues = Record<QueueName, Queue>;

/** Job data: ids only. BullMQ keeps job data in clear text in Redis (checklist 80). */
export const messageJob = z.object({ messageId: z.uuid() }).strict();
export const itemJob = z.object({ itemId: z.uuid(), version: z.number().int().min(1) }).strict();

/**
 * How long a worker holds a job's lock before it counts as stalled (BullMQ renews it every
 * half of this while the job runs). Every provider call must time out well inside it
 * (TWILIO_HTTP_TIMEOUT_MS; checklist 47).
 *
 * Policy (checklist 74): the lock is renewed from the event loop, so
 * - no processor does long synchronous work (CPU-heavy parsing, sync I/O, big loops): it
 *   awaits I/O, and anything heavy goes to another process or a sandboxed processor;
 * - this duration covers the longest expected job (a provider call with its timeout and a
 *   pacing wait, a reminder batch), so a healthy job never loses its lock;
 * - a job whose lock lapsed anyway (a loop blocked past it, a frozen or killed process) is
 *   marked stalled and run again by another worker, and stays exactly-once because every
 *   processor goes through an idempotent path: a send claims its message with a lease
 *   (SEND_LEASE_MS, runner/outbound.ts) and reconciles with the provider, a timer fires
 *   only its current version once.
 * Each process measures its event-loop delay (event-loop.ts): `/metrics` shows it and a
 * warning is logged above EVENT_LOOP_WARN_MS; test/scheduler/event-loop-stall.test.ts shows a
 * blocked worker's job re-run elsewhere with one SMS sent.
 */
export const JOB_LOCK_MS = 30_000;

const DAY = 24 * 3600;
/** Retries, stored in each job (BullMQ reads them from the job). */
export const JOB_DEFAULTS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
};

/**
 * How long finished jobs are kept: long enough to dedupe, short enough to stay small; failed
 * jobs at most 30 days (checklist 80). Given to every Worker, which applies it to each job it
 * finishes, instead of being copied into every job hash: a pending reminder is smaller.
 */
export const JOB_RETENTION = {
  removeOnComplete: { age: DAY, count: 10_000 },
  removeOnFail: { age: 30 * DAY },
} as const;

/**
 * BullMQ's per-queue event stream ('added', 'delayed', 'completed'...) keeps this many
 * entries (default 10,000, about 200 bytes each): Linkline reads no queue events, and a burst
 * of delayed reminders would otherwise fill it.
 */
export const EVENTS_MAX_LEN = 1_000;

export function queueFor(kind: ScheduledItemKind): QueueName {
  if (kind === 'reminder_day_before' || kind === 'reminder_same_day') return 'reminders';
  if (kind === 'lead_summary' || kind === 'attendance_nudge') return 'nudges';
  return 'timers';
}

export function createQueues(connection: Redis, prefix: string): Queues {
  const make = (name: QueueName) =>
    new Queue(name, {
      connection,
      prefix,
      defaultJobOptions: JOB_DEFAULTS,
      streams: { events: { maxLen: EVENTS_MAX_LEN } },
    });
  const queues = Object.fromEntries(QUEUE_NAMES.map((n) => [n, make(n)])) as Queues;
  connectionOf.set(queues, { redis: connection, prefix });
  return queues;
}

/** The connection and prefix each set of queues was made with (for the failure counter). */
const connectionOf = new WeakMap<Queues, { redis: Redis; prefix: string }>();

/**
 * Failed enqueues (checklist 71), shared by every process through Redis so one `/metrics`
 * shows all of them: `linkline_enqueue_failures_total`. The failure is often Redis itself
 * (full, with `noeviction`: every write is refused with OOM; or unreachable), so the count
 * cannot always be written when it happens: each process keeps what it has not written yet
 * and adds it on the next failure, reconciler pass or scrape that Redis accepts, and the
 * process that is scraped adds its own unwritten count to the figure.
 */
const failureKey = (prefix: string) => `${prefix}:ops:enqueue_failures`;
const unwritten = new Map<string, { count: number; writing: boolean }>();

function unwrittenOf(prefix: string) {
  let entry = unwritten.get(prefix);
  if (!entry) {
    entry = { count: 0, writing: false };
    unwritten.set(prefix, entry);
  }
  return entry;
}

/** Adds this process's unwritten failures to the shared counter, if Redis takes the write. */
export async function flushEnqueueFailures(redis: Redis, prefix: string): Promise<void> {
  const entry = unwrittenOf(prefix);
  // One write at a time: a write that hangs through a reconnect is not sent twice.
  if (entry.count === 0 || entry.writing) return;
  const n = entry.count;
  entry.writing = true;
  try {
    await redis.incrby(failureKey(prefix), n);
    entry.count -= n;
  } catch {
    // Refused (OOM) or unreachable: kept for the next try.
  } finally {
    entry.writing = false;
  }
}

/**
 * An enqueue that failed after its transaction committed (the sink): the durable row stays in
 * PostgreSQL and the reconciler queues it later. Never silent: a warn log with a stable
 * `alert` field to page on, and the counter.
 */
export function recordEnqueueFailure(queues: Queues, logger: Logger, err: Error): void {
  logger.warn(
    { alert: 'enqueue_failed', reason: err.message },
    'enqueue after commit failed; the reconciler will retry',
  );
  countEnqueueFailure(queues);
}

/** Counts one failed enqueue (no log line: the caller logs it with what it knows). */
export function countEnqueueFailure(queues: Queues): void {
  const conn = connectionOf.get(queues);
  if (!conn) return;
  unwrittenOf(conn.prefix).count += 1;
  void flushEnqueueFailures(conn.redis, conn.prefix);
}

/** `linkline_enqueue_failures_total`: every process's written count plus this one's unwritten. */
export async function enqueueFailureCount(redis: Redis, prefix: string): Promise<number> {
  await flushEnqueueFailures(redis, prefix);
  const shared = Number((await redis.get(failureKey(prefix))) ?? 0);
  return shared + unwrittenOf(prefix).count;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/** The Redis key of a job's hash: how the reconciler asks "is this job still there?". */
export function jobKey(prefix: string, queue: QueueName, jobId: string): string {
  return `${prefix}:${queue}:${jobId}`;
}
