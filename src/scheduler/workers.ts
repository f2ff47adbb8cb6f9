import {
  DelayedError,
  type Processor,
  type RepeatOptions,
  UnrecoverableError,
  Worker,
} from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { TWILIO_ERASE_JOB } from '../privacy/twilio-erase.js';
import { RetrySend, type SmsGateway, sendOutbound, WaitTurn } from '../runner/outbound.js';
import type { BatchOutcome, Runner } from '../runner/runner.js';
import { giveUpSend, isLastAttempt } from '../runner/send-failure.js';
import type { Db } from '../store/db.js';
import { ANALYZE_JOB } from '../store/stats-keeper.js';
import { createBatcher } from './batcher.js';
import { EARLY_TOLERANCE_MS, earlyBy } from './early-guard.js';
import {
  itemJob,
  JOB_LOCK_MS,
  JOB_RETENTION,
  messageJob,
  type QueueName,
  type Queues,
} from './queues.js';
import { type Ramp, rampConcurrency } from './ramp.js';
import { LEAD_TEXT_JOB, reconcile } from './reconciler.js';
import { createTurnGate, type TurnGate } from './turn-gate.js';

export interface WorkerDeps {
  db: Db;
  redis: Redis;
  queues: Queues;
  prefix: string;
  runner: Runner;
  gateway: SmsGateway;
  logger: Logger;
  now?: () => Date;
  concurrency?: Partial<Record<QueueName, number>>;
  /**
   * The inbound reconciliation job (checklist 22), run every `everyMs` on the maintenance
   * queue as job `inbound-sweep`; absent or 0: its scheduler is removed.
   */
  inboundSweep?: { run: () => Promise<unknown>; everyMs: number };
  /**
   * The retention job (checklist 89), run nightly on the maintenance queue as job
   * `retention` at `RETENTION_AT` in zone `tz`; absent: its scheduler is removed.
   */
  retention?: { run: () => Promise<unknown>; tz: string };
  /** Erased participants' messages deleted at Twilio (src/privacy/twilio-erase.ts), every `everyMs`. */
  twilioErase?: { run: () => Promise<unknown>; everyMs: number };
  /**
   * Fresh planner statistics where no autovacuum runs (src/store/stats-keeper.ts), every
   * `everyMs` as job `analyze`; absent: its scheduler is removed.
   */
  analyze?: { run: () => Promise<unknown>; everyMs: number };
  /** Reminders fired together in one transaction: at most this many (1: one at a time). */
  reminderBatch?: number;
  /** Inbound texts handled together in one transaction: at most this many (1: one at a time). */
  inboundBatch?: number;
  /** Conversation turns first (turn-gate.ts); injectable for tests. */
  turnGate?: TurnGate;
  /** Handles a stored text from an activity lead's number, once (src/channels/leads). */
  leadText?: (messageId: string) => Promise<unknown>;
}

/** The maintenance queue's job names (one repeatable job scheduler each). */
export const RECONCILE_JOB = 'reconcile';
export const INBOUND_SWEEP_JOB = 'inbound-sweep';
export const RETENTION_JOB = 'retention';
/** When the retention job runs: 03:30 every night (cron, in the service's zone), a quiet hour. */
export const RETENTION_AT = '30 3 * * *';

/** Reminder jobs a batch takes at most, and batches running at once per process. */
export const REMINDER_BATCH = 32;
const REMINDER_BATCHES_AT_ONCE = 4;
/** Inbound texts a batch takes at most, and batches running at once per process. */
export const INBOUND_BATCH = 8;
const INBOUND_BATCHES_AT_ONCE = 4;
/**
 * The first batch of a burst takes one job (then 2, 4, ... up to REMINDER_BATCH): its
 * reminder is committed and queued for sending without waiting for 31 others.
 */
const REMINDER_FIRST_BATCH = 1;
/** The reminders' worker starts a burst holding this many jobs (ramp.ts), then doubles. */
const REMINDER_RAMP_START = 8;
/** How long a reminder batch waits, at most, for this process's conversation turns. */
export const TURN_GATE_MS = 250;

function parse<T>(
  schema: { safeParse: (v: unknown) => { success: true; data: T } | { success: false } },
  data: unknown,
): T {
  const r = schema.safeParse(data);
  // A malformed job can never succeed: fail it at once rather than retrying.
  if (!r.success) throw new UnrecoverableError('malformed job data');
  return r.data;
}

export function processors(deps: WorkerDeps): Record<QueueName, Processor> {
  const now = deps.now ?? (() => new Date());
  const item: Processor = async (job, token) => {
    const { itemId, version } = parse(itemJob, job.data);
    // Queued by a process whose clock runs ahead: wait for the due time by ours (checklist 77).
    const early = await earlyBy(deps.db, itemId, version, now());
    if (early > 0 && token) {
      await job.moveToDelayed(Date.now() + early, token);
      throw new DelayedError();
    }
    return deps.runner.handleItem(itemId, version);
  };
  // Reminders come in bursts (a whole session's bookings due at the same minute): they are
  // fired in batches, one transaction each; anything the batch cannot do runs on its own.
  // A batch gives way to the conversation turns running in this process (turn-gate.ts).
  const gate = deps.turnGate ?? createTurnGate();
  const batch = createBatcher<{ itemId: string; version: number }, BatchOutcome>(
    async (refs) => {
      await gate.clear(TURN_GATE_MS);
      return deps.runner.handleItemBatch(refs, (i) => {
        const early = i.dueAt.getTime() - now().getTime();
        return early > EARLY_TOLERANCE_MS ? early : 0;
      });
    },
    {
      max: deps.reminderBatch ?? REMINDER_BATCH,
      parallel: REMINDER_BATCHES_AT_ONCE,
      first: REMINDER_FIRST_BATCH,
    },
  );
  // Texts of different participants that arrive together are handled in one transaction
  // (group commit); a text whose participant is busy, or a batch that failed, runs alone.
  const inbound = createBatcher<string, 'done' | 'alone'>(
    (ids) => deps.runner.handleInboundBatch(ids),
    { max: deps.inboundBatch ?? INBOUND_BATCH, parallel: INBOUND_BATCHES_AT_ONCE },
  );
  const reminder: Processor = async (job, token) => {
    if ((deps.reminderBatch ?? REMINDER_BATCH) <= 1) return item(job, token);
    const r = await batch.add(parse(itemJob, job.data));
    if (r === 'alone' || (typeof r === 'object' && !token)) return item(job, token);
    if (typeof r === 'object') {
      await job.moveToDelayed(Date.now() + r.earlyMs, token);
      throw new DelayedError();
    }
    return r;
  };
  return {
    inbound: async (job) => {
      const { messageId } = parse(messageJob, job.data);
      if (job.name === LEAD_TEXT_JOB) {
        if (!deps.leadText) throw new Error('no handler for a lead text');
        return deps.leadText(messageId);
      }
      await gate.turn(async () => {
        if ((deps.inboundBatch ?? INBOUND_BATCH) <= 1)
          return void (await deps.runner.handleInbound(messageId));
        if ((await inbound.add(messageId)) === 'alone') await deps.runner.handleInbound(messageId);
      });
    },
    outbound: async (job, token) => {
      try {
        return await sendOutbound(
          deps.db,
          deps.gateway,
          parse(messageJob, job.data).messageId,
          deps.logger,
        );
      } catch (err) {
        if (err instanceof WaitTurn && token) {
          // Not a failure: try again shortly without using up an attempt.
          await job.moveToDelayed(Date.now() + err.delayMs, token);
          throw new DelayedError();
        }
        if (err instanceof RetrySend && isLastAttempt(job)) {
          // Retries used up (5xx, 429, network): failed, recorded, link worker told (36).
          await giveUpSend(
            deps.db,
            parse(messageJob, job.data).messageId,
            { code: err.code, attempts: job.attemptsMade + 1 },
            deps.logger,
          );
          return 'failed';
        }
        if (err instanceof RetrySend)
          deps.logger.info({ code: err.code, attempt: job.attemptsMade }, 'send retry');
        throw err;
      }
    },
    timers: item,
    reminders: reminder,
    nudges: item,
    maintenance: async (job) => {
      if (job.name === INBOUND_SWEEP_JOB) return deps.inboundSweep?.run();
      if (job.name === RETENTION_JOB) return deps.retention?.run();
      if (job.name === TWILIO_ERASE_JOB) return deps.twilioErase?.run();
      if (job.name === ANALYZE_JOB) return deps.analyze?.run();
      return reconcile(deps.db, deps.redis, deps.queues, deps.prefix, now(), deps.logger);
    },
  };
}

const DEFAULT_CONCURRENCY: Record<QueueName, number> = {
  inbound: 16,
  outbound: 32,
  timers: 8,
  // Enough jobs in hand to fill the next batch while four others run.
  reminders: 5 * REMINDER_BATCH,
  nudges: 4,
  // The reconciler, the inbound sweep and the retention job may run side by side.
  maintenance: 2,
};

/**
 * Outbound jobs per process. A paced send holds its job while it waits for its slot, so the
 * sender keeps its rate only while the jobs in hand cover the rate times one send's own time
 * (claim, guard, provider call, mark, BullMQ's move). With 1 per 20 messages a second, a
 * blast of 10,000 at 500/s from 2 processes took 1.83 times its planned 20 s: 1 per 8 now,
 * 64 at most. Of these, only a twentieth of the rate at a time hold a reserved slot
 * (maxHeldSlots in scheduler/pacing.ts); the others wait in the process, off the timeline.
 * Unpaced, 32. The send path's statements are shared by the sends that run together (claims,
 * guard reads and 'sent' marks: a statement per batch each), so more jobs in hand no longer
 * mean more PostgreSQL round trips. Replies do not need a free hand to overtake reminders:
 * BullMQ gives them the next free worker and the pacer's reply lane the next slot.
 */
export function outboundConcurrency(smsRate: number): number {
  return smsRate > 0 ? Math.min(64, Math.max(4, Math.ceil(smsRate / 8))) : 32;
}

/**
 * Starts one worker per queue, plus the every-minute reconciler, the inbound sweep and the
 * nightly retention job.
 */
export async function startWorkers(deps: WorkerDeps): Promise<{ close: () => Promise<void> }> {
  const procs = processors(deps);
  const workers = (Object.keys(procs) as QueueName[]).map((name) => {
    const concurrency = deps.concurrency?.[name] ?? DEFAULT_CONCURRENCY[name];
    let ramp: Ramp | null = null;
    const proc = procs[name];
    // Counted as each job starts, in the processor: BullMQ's 'active' event fires at each
    // fetch, which would double the ramp before the first job started.
    const worker = new Worker(
      name,
      name === 'reminders'
        ? async (job, token) => {
            ramp?.started();
            return proc(job, token);
          }
        : proc,
      {
        connection: deps.redis,
        prefix: deps.prefix,
        concurrency,
        lockDuration: JOB_LOCK_MS,
        ...JOB_RETENTION,
      },
    );
    // A burst's first reminder goes after a few fetches, not after `concurrency` of them.
    if (name === 'reminders') ramp = rampConcurrency(worker, REMINDER_RAMP_START, concurrency);
    return worker;
  });
  for (const w of workers)
    w.on('error', (err) =>
      deps.logger.warn({ reason: err.message, queue: w.name }, 'worker error'),
    );
  // The maintenance queue's periodic jobs: each scheduler upserted, or removed when absent.
  const schedules: [string, Omit<RepeatOptions, 'key'> | null][] = [
    [RECONCILE_JOB, { every: 60_000 }],
    [
      INBOUND_SWEEP_JOB,
      deps.inboundSweep && deps.inboundSweep.everyMs > 0
        ? { every: deps.inboundSweep.everyMs }
        : null,
    ],
    [RETENTION_JOB, deps.retention ? { pattern: RETENTION_AT, tz: deps.retention.tz } : null],
    [TWILIO_ERASE_JOB, deps.twilioErase ? { every: deps.twilioErase.everyMs } : null],
    [ANALYZE_JOB, deps.analyze ? { every: deps.analyze.everyMs } : null],
  ];
  for (const [name, repeat] of schedules)
    if (repeat) await deps.queues.maintenance.upsertJobScheduler(name, repeat, { name });
    else await deps.queues.maintenance.removeJobScheduler(name);
  return {
    // Waits for active jobs to finish (graceful SIGTERM drain).
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
}
