import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
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
  return Object.fromEntries(QUEUE_NAMES.map((n) => [n, make(n)])) as Queues;
}

export async function closeQueues(queues: Queues): Promise<void> {
  await Promise.all(Object.values(queues).map((q) => q.close()));
}

/** The Redis key of a job's hash: how the reconciler asks "is this job still there?". */
export function jobKey(prefix: string, queue: QueueName, jobId: string): string {
  return `${prefix}:${queue}:${jobId}`;
}
