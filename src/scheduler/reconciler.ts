import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Db } from '../store/db.js';
import { listDueItems } from '../store/repos/scheduled-items.js';
import { flushEnqueueFailures, jobKey, type QueueName, type Queues, queueFor } from './queues.js';
import { enqueueItems, enqueueSends, HORIZON_MS, sendJobId } from './sink.js';

/** The inbound queue's job name for a lead's text (the other jobs there are `inbound`). */
export const LEAD_TEXT_JOB = 'lead';

export interface ReconcileCounts {
  items: number;
  sends: number;
  inbound: number;
}

/** Which of these job ids have no job hash in Redis (one pipelined round trip). */
async function missing(
  redis: Redis,
  prefix: string,
  jobs: { queue: QueueName; id: string }[],
): Promise<Set<string>> {
  if (jobs.length === 0) return new Set();
  const pipe = redis.pipeline();
  for (const j of jobs) pipe.exists(jobKey(prefix, j.queue, j.id));
  const replies = (await pipe.exec()) ?? [];
  return new Set(jobs.filter((_, i) => replies[i]?.[1] === 0).map((j) => j.id));
}

/**
 * PostgreSQL is the truth, Redis the engine room: every timer due within the horizon, every
 * queued outbound message and every unhandled inbound message that has no job gets one.
 * Run at start-up and every minute; after a Redis FLUSHALL it rebuilds everything.
 */
export async function reconcile(
  db: Db,
  redis: Redis,
  queues: Queues,
  prefix: string,
  now: Date,
  logger: Logger,
): Promise<ReconcileCounts> {
  const counts: ReconcileCounts = { items: 0, sends: 0, inbound: 0 };
  // Failed enqueues this process could not count in Redis then (it was full or down); not
  // awaited: the pass does not wait on the counter.
  void flushEnqueueFailures(redis, prefix);
  const to = new Date(now.getTime() + HORIZON_MS);
  // Bounded per pass; a bigger backlog is finished by the next passes (every minute).
  const items = await listDueItems(db, { to, limit: 20_000 });
  const absent = await missing(
    redis,
    prefix,
    items.map((i) => ({ queue: queueFor(i.kind), id: i.jobId })),
  );
  const lost = items.filter((i) => absent.has(i.jobId));
  await enqueueItems(db, queues, lost, now);
  counts.items = lost.length;
  const stale = new Date(now.getTime() - 10_000);
  const out = await db.query<{ id: string; priority: number }>(
    `SELECT id, priority FROM messages WHERE direction = 'out' AND status IN ('queued', 'sending') AND created_at < $1 LIMIT 5000`,
    [stale],
  );
  const noSend = await missing(
    redis,
    prefix,
    out.rows.map((r) => ({ queue: 'outbound' as const, id: sendJobId(r.id) })),
  );
  const sends = out.rows.filter((r) => noSend.has(sendJobId(r.id)));
  await enqueueSends(queues, sends);
  counts.sends = sends.length;
  // A text with no participant is an activity lead's (or from no number at all): its job is
  // `lead`, which marks it processed whatever it finds.
  const inn = await db.query<{ id: string; lead: boolean }>(
    `SELECT id, participant_id IS NULL AS lead FROM messages WHERE direction = 'in' AND processed_at IS NULL AND created_at < $1 LIMIT 5000`,
    [stale],
  );
  const jobOf = (r: { id: string; lead: boolean }) => (r.lead ? inboundLeadJob : inboundJob)(r.id);
  const noIn = await missing(
    redis,
    prefix,
    inn.rows.map((r) => ({ queue: 'inbound' as const, id: jobOf(r).opts.jobId })),
  );
  const lostIn = inn.rows.filter((r) => noIn.has(jobOf(r).opts.jobId));
  if (lostIn.length > 0) await queues.inbound.addBulk(lostIn.map(jobOf));
  counts.inbound = lostIn.length;
  if (counts.items + counts.sends + counts.inbound > 0)
    logger.info(counts, 'reconciler restored jobs');
  return counts;
}

/** The job that runs a participant's turn for a stored inbound text. */
export const inboundJob = (messageId: string) => ({
  name: 'inbound',
  data: { messageId },
  opts: { jobId: `in-${messageId}` },
});

/** The job that handles a stored text from an activity lead's number (src/channels/leads). */
export const inboundLeadJob = (messageId: string) => ({
  name: LEAD_TEXT_JOB,
  data: { messageId },
  opts: { jobId: `lead-${messageId}` },
});

/** Timers more than two minutes past due and not yet fired: the overdue figure (checklist 76). */
export async function overdueCount(db: Db, now: Date): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM scheduled_items WHERE state IN ('pending', 'enqueued') AND due_at < $1`,
    [new Date(now.getTime() - 120_000)],
  );
  return rows[0]?.n ?? 0;
}
