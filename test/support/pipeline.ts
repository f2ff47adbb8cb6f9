import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import type { SendOutcome, SmsGateway } from '../../src/runner/outbound.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { createSink } from '../../src/scheduler/sink.js';
import { startWorkers } from '../../src/scheduler/workers.js';
import type { Db } from '../../src/store/db.js';

/** A provider double that records what it accepted; faults make it answer badly first. */
export class MemoryGateway implements SmsGateway {
  readonly accepted: { ourId: string; to: string; body: string; sid: string }[] = [];
  faults: ('ambiguous' | 'retryable')[] = [];

  async send(m: { ourId: string; to: string; body: string }): Promise<SendOutcome> {
    const fault = this.faults.shift();
    if (fault === 'retryable') return { kind: 'retryable', code: '20429' };
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.accepted.push({ ...m, sid });
    return fault === 'ambiguous' ? { kind: 'ambiguous' } : { kind: 'sent', sid };
  }

  async reconcile(m: { ourId: string }): Promise<{ sid: string } | null> {
    const found = this.accepted.find((a) => a.ourId === m.ourId);
    return found ? { sid: found.sid } : null;
  }

  to(phone: string): string[] {
    return this.accepted.filter((a) => a.to === phone).map((a) => a.body);
  }
}

export interface Pipeline {
  runner: Runner;
  queues: Queues;
  redis: Redis;
  prefix: string;
  gateway: MemoryGateway;
  sink: ReturnType<typeof createSink>;
  close: () => Promise<void>;
}

export const quietLogger = pino({ level: 'silent' });

/** The real runner, queues and workers on a real Redis, with a unique queue prefix. */
export async function startPipeline(
  db: Db,
  redisUrl = 'redis://127.0.0.1:6379',
  now?: () => Date,
): Promise<Pipeline> {
  const catalog = await loadCheckedCatalog('flows', 'locales');
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redis, prefix);
  const gateway = new MemoryGateway();
  const clock = now ?? (() => new Date());
  const sink = createSink(db, queues, quietLogger, clock);
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: 'en',
    logger: quietLogger,
    now: clock,
    sink,
  });
  const workers = await startWorkers({
    db,
    redis,
    queues,
    prefix,
    runner,
    gateway,
    logger: quietLogger,
    now: clock,
  });
  return {
    runner,
    queues,
    redis,
    prefix,
    gateway,
    sink,
    close: async () => {
      await workers.close();
      await Promise.all(
        Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
      );
      await closeQueues(queues);
      redis.disconnect();
    },
  };
}

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not met in time');
}
