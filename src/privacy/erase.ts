import type { BaseLogger } from 'pino';
import { type QueueName, type Queues, queueFor } from '../scheduler/queues.js';
import type { Db } from '../store/db-port.js';
import type { ScheduledItemKind } from '../store/enums.js';
import { eraseParticipant } from '../store/repos/erasure.js';
import { participantIdOf } from './refs.js';
import { TWILIO_ERASE_JOB } from './twilio-erase.js';

export interface EraseDeps {
  db: Db;
  /** BullMQ queues to remove the participant's jobs from; null: Redis not reachable. */
  queues: Queues | null;
  logger: Pick<BaseLogger, 'info' | 'warn'>;
  /** Starts the Slack outbox now (in a process that runs it); otherwise its poll does. */
  kickSlack?: () => void;
}

/** The same answer for a first erasure and any later one. */
export interface Erased {
  ref: string;
  erased_at: string;
}

/**
 * Every BullMQ job that can exist for the participant, in any state: each version of each
 * of their timers, the send job of each outbound text and the job of each inbound one.
 */
async function jobsOf(db: Db, id: string): Promise<{ queue: QueueName; id: string }[]> {
  const { rows } = await db.query<{ kind: string; job: string }>(
    `SELECT kind, 'si-' || id::text || '-v' || v::text AS job
       FROM scheduled_items, generate_series(1, version) AS v WHERE participant_id = $1
     UNION ALL SELECT direction, CASE direction WHEN 'in' THEN 'in-' ELSE 'send-' END || id::text
       FROM messages WHERE participant_id = $1`,
    [id],
  );
  return rows.map((r) => ({
    queue:
      r.kind === 'in'
        ? 'inbound'
        : r.kind === 'out'
          ? 'outbound'
          : queueFor(r.kind as ScheduledItemKind),
    id: r.job,
  }));
}

/**
 * Removes the jobs from Redis. An active job cannot be removed: it re-reads its timer (now
 * cancelled) or its message (now skipped) and does nothing. Returns how many were removed.
 */
async function removeJobs(queues: Queues, jobs: { queue: QueueName; id: string }[]) {
  let removed = 0;
  for (const job of jobs) removed += await queues[job.queue].remove(job.id).catch(() => 0);
  return removed;
}

/**
 * Erases the participant with this reference (UK GDPR art. 17): the tombstone transaction
 * (src/store/repos/erasure.ts), then their BullMQ jobs are removed, the Slack outbox
 * deletes our posts and the `twilio-erase` job is queued to delete their messages from
 * Twilio's log (twilio-erase.ts; its every-minute run does it if this enqueue fails). Null
 * for an unknown reference. Erasing again is harmless: it answers the same and removes any
 * job a first run could not (Redis down).
 */
export async function eraseByRef(
  deps: EraseDeps,
  ref: string,
  actor: string,
): Promise<Erased | null> {
  const id = await participantIdOf(deps.db, ref);
  if (id === null) return null;
  const result = await eraseParticipant(deps.db, id, actor);
  if (result.slackDeletes > 0) deps.kickSlack?.();
  let jobsRemoved: number | null = null;
  if (deps.queues) {
    try {
      jobsRemoved = await removeJobs(deps.queues, await jobsOf(deps.db, id));
    } catch (err) {
      deps.logger.warn({ ref, reason: (err as Error).message }, 'erasure: removing jobs failed');
    }
    // No data: the job reads twilio_deletions. A failure waits for the every-minute run.
    if (result.twilioDeletes > 0)
      await deps.queues.maintenance
        .add(TWILIO_ERASE_JOB, {})
        .catch((err: Error) =>
          deps.logger.warn(
            { ref, reason: err.message },
            'erasure: queueing twilio deletions failed',
          ),
        );
  }
  const { rows } = await deps.db.query<{ at: Date }>(
    'SELECT erased_at AS at FROM participants WHERE id = $1',
    [id],
  );
  deps.logger.info(
    {
      ref,
      first: result.erased,
      jobsRemoved,
      slackDeletes: result.slackDeletes,
      twilioDeletes: result.twilioDeletes,
    },
    'participant erased',
  );
  return { ref, erased_at: rows[0]!.at.toISOString() };
}
