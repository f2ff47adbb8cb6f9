import type { Logger } from 'pino';
import type { EffectSink, Effects } from '../runner/effects.js';
import type { Db } from '../store/db.js';
import type { ScheduledItem, StaleJob } from '../store/repos/scheduled-items.js';
import { type QueueName, type Queues, queueFor, recordEnqueueFailure } from './queues.js';

/** Timers due within this horizon get a delayed job now; later ones wait for the reconciler. */
export const HORIZON_MS = 60 * 60_000;

/**
 * Jobs per addBulk call. Grouping a list by copying it per item (as this did) made a reconciler
 * pass over 20,000 rows hold a worker's event loop for 17 s on the 100,000 day, and one
 * addBulk of 20,000 jobs is one long synchronous build of its pipeline.
 */
export const ADD_CHUNK = 1_000;

/** BullMQ priority: 1 is first. Replies to a participant go ahead of bulk reminders. */
export function bullPriority(priority: number): number {
  return priority > 0 ? 1 : 10;
}

/** What enqueueing needs to know of a timer. */
export type ItemToEnqueue = Pick<
  ScheduledItem,
  'id' | 'version' | 'kind' | 'dueAt' | 'jobId' | 'state'
>;

export async function enqueueItems(
  db: Db,
  queues: Queues,
  items: readonly ItemToEnqueue[],
  now: Date,
): Promise<void> {
  const soon = items.filter((i) => i.dueAt.getTime() < now.getTime() + HORIZON_MS);
  if (soon.length === 0) return;
  // One round trip per queue (per ADD_CHUNK jobs) and one UPDATE, not two per timer: a
  // burst stays cheap, and a reconciler pass of 20,000 rows does not hold the event loop.
  const byQueue = new Map<QueueName, ItemToEnqueue[]>();
  for (const item of soon) {
    const list = byQueue.get(queueFor(item.kind));
    if (list) list.push(item);
    else byQueue.set(queueFor(item.kind), [item]);
  }
  for (const [queue, list] of byQueue) {
    for (let i = 0; i < list.length; i += ADD_CHUNK)
      await queues[queue].addBulk(
        list.slice(i, i + ADD_CHUNK).map((item) => ({
          name: item.kind,
          data: { itemId: item.id, version: item.version },
          opts: { jobId: item.jobId, delay: Math.max(0, item.dueAt.getTime() - now.getTime()) },
        })),
      );
  }
  const pending = soon.filter((i) => i.state === 'pending');
  if (pending.length === 0) return;
  // The sink, the reconciler of each process and the firing batches touch the same rows:
  // a row another transaction holds is skipped (it is being marked or fired there), so two
  // markings never wait on each other in opposite orders (a deadlock). The state is only the
  // reconciler's hint: the job, added above, is what counts.
  await db.query(
    `UPDATE scheduled_items s SET state = 'enqueued' FROM (
       SELECT s.id FROM scheduled_items s JOIN unnest($1::uuid[], $2::int[]) AS v(id, version)
         ON s.id = v.id AND s.version = v.version
       WHERE s.state = 'pending' FOR UPDATE OF s SKIP LOCKED
     ) AS free WHERE s.id = free.id`,
    [pending.map((i) => i.id), pending.map((i) => i.version)],
  );
}

/**
 * How long a reply's outbound job waits when the process that wrote the reply also sends it at
 * once (createSink's `sendNow`). The job is the durable path: it runs only if that direct send
 * never finished (the process died), or at once when the direct send could not send it. Before
 * this the job ran beside the direct send, found the row being sent, took two more statements
 * and a second run 45 s later to learn it was sent: on the conversation benchmark, 0.84 extra
 * statements and two BullMQ job cycles for every reply.
 */
export const DIRECT_BACKUP_DELAY_MS = 10_000;

/** The outbound job id of a message. */
export const sendJobId = (messageId: string): string => `send-${messageId}`;

export async function enqueueSends(
  queues: Queues,
  sends: Effects['sends'],
  /** Sends that will also be tried at once by this process: their job waits as a backup. */
  backup: (s: Effects['sends'][number]) => boolean = () => false,
): Promise<void> {
  if (sends.length === 0) return;
  await queues.outbound.addBulk(
    sends.map((s) => ({
      name: 'send',
      data: { messageId: s.id },
      opts: {
        jobId: sendJobId(s.id),
        priority: bullPriority(s.priority),
        ...(backup(s) ? { delay: DIRECT_BACKUP_DELAY_MS } : {}),
      },
    })),
  );
}

/**
 * A job is added only for a timer due within HORIZON_MS of the adding process's clock. A stale
 * job due later than this (the horizon plus a margin for another host's clock) was never added:
 * removing it would cost a Redis script per queue for nothing. A leftover job would be harmless
 * anyway: its version moved on, so it fires as a no-op.
 */
const NEVER_ADDED_MS = HORIZON_MS + 15 * 60_000;

async function removeJobs(queues: Queues, jobs: readonly StaleJob[], now: Date): Promise<void> {
  const horizon = now.getTime() + NEVER_ADDED_MS;
  await Promise.all(
    jobs
      .filter((j) => j.dueAt === null || j.dueAt.getTime() < horizon)
      // An active job cannot be removed; its stale-fire guard makes it a no-op instead.
      .map((j) => queues[queueFor(j.kind)].remove(j.jobId).catch(() => 0)),
  );
}

/**
 * Carries out a committed transaction's effects. If Redis is down this throws after the
 * commit: nothing is lost, the reconciler enqueues whatever is still pending.
 *
 * With `sendNow`, a reply (priority above 0) is also sent at once from here, without waiting
 * for a free outbound worker (during a blast every one is holding a reminder until its paced
 * slot). Its outbound job is still queued, first, delayed by DIRECT_BACKUP_DELAY_MS, and stays
 * the durable path: the send claims the row, so whichever of the two runs second finds it
 * sent, or being sent, and does not send it again. A direct send that finishes removes the
 * job; anything it could not finish (an earlier message to the person not out yet, a
 * retryable failure) promotes the job, which takes it over at once.
 */
export function createSink(
  db: Db,
  queues: Queues,
  logger: Logger,
  now: () => Date = () => new Date(),
  timeoutMs = 3_000,
  sendNow?: (messageId: string) => Promise<unknown>,
): EffectSink {
  const urgent = (s: Effects['sends'][number]) => sendNow !== undefined && s.priority > 0;
  const direct = (sends: Effects['sends']) => {
    for (const s of sends) if (urgent(s)) void sendDirect(s.id);
  };
  const sendDirect = async (id: string) => {
    try {
      await sendNow?.(id);
    } catch (err) {
      logger.debug({ reason: (err as Error).message }, 'direct reply send left to its job');
      // Not sent here (an earlier text to them still out, a retryable failure): the job takes
      // over now rather than after its backup delay.
      await promote(queues, sendJobId(id));
      return;
    }
    // Finished here (sent, skipped, failed for good, or found done): the backup job has nothing
    // left to do. One already running cannot be removed, and finds the row done.
    try {
      await queues.outbound.remove(sendJobId(id));
    } catch {
      // Redis unreachable: the job runs after its delay and finds the row done.
    }
  };
  return async (effects) => {
    try {
      // A Redis that is down makes commands wait for the reconnect: don't hold a caller up.
      await withTimeout(
        (async () => {
          await enqueueSends(queues, effects.sends, urgent);
          // Only once its job is in Redis (if this process dies, the job still sends it).
          // Redis down: no direct send either (its pacer lives there); the reconciler
          // queues the job when Redis is back.
          direct(effects.sends);
          await enqueueItems(db, queues, effects.items, now());
          await removeJobs(queues, effects.cancelledJobs, now());
        })(),
        timeoutMs,
      );
    } catch (err) {
      recordEnqueueFailure(queues, logger, err as Error);
    }
  };
}

async function promote(queues: Queues, jobId: string): Promise<void> {
  try {
    // BullMQ promotes only a job still delayed; one already running or done throws.
    await (await queues.outbound.getJob(jobId))?.promote();
  } catch {
    // Promoted or started meanwhile, or Redis unreachable: the delay runs out by itself.
  }
}

export function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
