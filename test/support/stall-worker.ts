import { type Processor, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { twilioGateway } from '../../src/channels/sms/gateway.js';
import { createSmsSender } from '../../src/channels/sms/index.js';
import { SANDBOX_TWILIO } from '../../src/main.js';
import type { SmsGateway } from '../../src/runner/outbound.js';
import type { Runner } from '../../src/runner/runner.js';
import { JOB_RETENTION, type Queues } from '../../src/scheduler/queues.js';
import { processors } from '../../src/scheduler/workers.js';
import type { Db } from '../../src/store/db.js';
import { getMessage } from '../../src/store/repos/messages.js';

/**
 * Linkline's real outbound path (the `outbound` processor, sendOutbound, the Twilio SDK) on a
 * test-only Worker whose job lock and stalled check are short (checklist 74): a loop blocked
 * for a few seconds stalls its job, where production's JOB_LOCK_MS would need 30.
 */
export interface StallWorkerOptions {
  db: Db;
  redis: Redis;
  queues: Queues;
  prefix: string;
  logger: Logger;
  gateway: SmsGateway;
  lockMs: number;
  stalledMs: number;
  autorun?: boolean;
  /** Each run of the processor: its result, or the name of what it threw. */
  onRun?: (jobId: string, outcome: string) => void;
}

/** The gateway production builds, against the local Twilio at `apiUrl` (sandbox account). */
export function localTwilioGateway(
  apiUrl: string,
  logger: Logger,
  opts: { db?: Db; resendAfterMs?: number; httpTimeoutMs?: number } = {},
): {
  gateway: SmsGateway;
  close(): void;
} {
  const sender = createSmsSender(
    { ...SANDBOX_TWILIO, apiUrl },
    {
      logger,
      httpTimeoutMs: opts.httpTimeoutMs ?? 2_000,
      ...(opts.resendAfterMs !== undefined ? { resendAfterMs: opts.resendAfterMs } : {}),
    },
  );
  const { db } = opts;
  return {
    // With the database, as src/main.ts wires it: the body is read back from the outbox, so
    // this process can reconcile a send another one started.
    gateway: twilioGateway(sender, {
      publicUrl: 'http://127.0.0.1:9/',
      ...(db ? { bodyOf: async (id: string) => (await getMessage(db, id))?.body ?? null } : {}),
    }),
    close: () => sender.close(),
  };
}

export function outboundWorker(o: StallWorkerOptions): Worker {
  const outbound = processors({
    db: o.db,
    redis: o.redis,
    queues: o.queues,
    prefix: o.prefix,
    // The outbound processor never touches the runner.
    runner: {} as Runner,
    gateway: o.gateway,
    logger: o.logger,
  }).outbound;
  const recorded: Processor = async (job, token) => {
    try {
      const result = await outbound(job, token);
      o.onRun?.(job.id ?? '', String(result));
      return result;
    } catch (err) {
      o.onRun?.(job.id ?? '', (err as Error).name);
      throw err;
    }
  };
  return new Worker('outbound', recorded, {
    connection: o.redis,
    prefix: o.prefix,
    lockDuration: o.lockMs,
    stalledInterval: o.stalledMs,
    autorun: o.autorun ?? true,
    ...JOB_RETENTION,
  });
}
