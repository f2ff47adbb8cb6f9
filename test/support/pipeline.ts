import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import type { Logger } from '../../src/log.js';
import type { SendOutcome, SmsGateway } from '../../src/runner/outbound.js';
import { createRunner, type Runner } from '../../src/runner/runner.js';
import { closeQueues, createQueues, type Queues } from '../../src/scheduler/queues.js';
import { createSink } from '../../src/scheduler/sink.js';
import { startWorkers } from '../../src/scheduler/workers.js';
import type { Db } from '../../src/store/db.js';
import { LeakWatch } from './leak-check.js';
import { capturedLogger } from './log-capture.js';

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
  /** The logger the runner, sink and workers were given (trace, kept in memory). */
  logger: Logger;
  /** The values the leak check looks for; a test may add its own (e.g. a secret it used). */
  leaks: LeakWatch;
  /** What the pipeline logged since the last check (each check clears it). */
  logs: () => string;
  /**
   * Checklist 90: throws, naming the kind of leak, when a number or SMS body of this test's
   * database (participants, messages) or one the gateway accepted is in what the pipeline
   * logged since the last check; then clears the capture. Run after every test of a file
   * that imports this module (see the `afterEach` below) and by `close()`.
   */
  checkLogs: (context: string) => Promise<void>;
  close: () => Promise<void>;
}

/**
 * A silent logger, for code whose log a test does not want checked (its logs are neither
 * captured nor checked). Prefer `watchLogs(db).logger` (checklist 90).
 */
export const quietLogger = pino({ level: 'silent' });

/** What a provider double accepted (`MemoryGateway`, `ScriptGateway`): numbers and bodies. */
export interface SentRecord {
  readonly accepted: readonly { readonly to: string; readonly body: string }[];
}

/** Log watches (pipelines) started and not yet closed, checked after each test. */
const live = new Set<LogWatch>();

// Registered on the file of every test that imports this module (vitest collects each file
// in its own module graph): after each test, every open pipeline's log must be clean.
afterEach(async (context) => {
  for (const p of live) await p.checkLogs(`"${context.task.name}"`);
});

/** A pipeline's logger (trace, in memory) and the check of what it logged (checklist 90). */
export interface LogWatch {
  logger: Logger;
  leaks: LeakWatch;
  logs: () => string;
  checkLogs: (context: string) => Promise<void>;
  /** Stops the per-test checks and checks what was logged since the last one. */
  done: () => Promise<void>;
}

/**
 * A logger at trace into memory (TEST_LOG=1 also prints it), checked after every test of the
 * file and at `done()`: no number or SMS body of the test's database (participants,
 * messages, activities' lead phones) or accepted by `gateway`, nor any value a test adds to
 * `leaks`, may be in it. `db` may be a function, for a file whose database is opened later (in a `beforeAll`);
 * until it gives one, only `gateway` and `leaks` are looked at.
 */
export function watchLogs(
  db: Db | (() => Db | undefined) | null,
  gateway?: SentRecord | null,
): LogWatch {
  const capture = capturedLogger('trace', process.env.TEST_LOG ? process.stdout : undefined);
  const leaks = new LeakWatch();
  let seenAccepted = 0;
  /** What this test used: the gateway's sends, and the numbers and bodies in the database. */
  const gather = async () => {
    const accepted = gateway?.accepted ?? [];
    for (const a of accepted.slice(seenAccepted)) {
      leaks.phone(a.to, 'a recipient');
      leaks.add('an SMS body sent', a.body);
    }
    seenAccepted = accepted.length;
    // The database may already be closed (a file's own afterAll): then what was seen suffices.
    try {
      const database = typeof db === 'function' ? db() : db;
      if (!database) return;
      const people = await database.query<{ phone: string }>(
        'SELECT phone FROM participants WHERE phone IS NOT NULL',
      );
      for (const r of people.rows) leaks.phone(r.phone);
      const messages = await database.query<{ body: string | null; address: string | null }>(
        'SELECT DISTINCT body, address FROM messages',
      );
      for (const r of messages.rows) {
        leaks.add('an SMS body stored', r.body);
        if (r.address?.startsWith('+')) leaks.phone(r.address, 'a message address');
      }
      const leads = await database.query<{ lead_phone: string }>(
        'SELECT DISTINCT lead_phone FROM activities WHERE lead_phone IS NOT NULL',
      );
      for (const r of leads.rows) leaks.phone(r.lead_phone, 'an activity lead');
    } catch {
      // Not migrated, or closed: nothing more to learn from it.
    }
  };
  const watch: LogWatch = {
    logger: capture.logger,
    leaks,
    logs: capture.output,
    checkLogs: async (context) => {
      await gather();
      const output = capture.output();
      capture.clear();
      leaks.assertClean(output, context);
    },
    done: async () => {
      live.delete(watch);
      // What was logged after the last check and while shutting down.
      await watch.checkLogs('the pipeline after its last test, or closing');
    },
  };
  live.add(watch);
  return watch;
}

/**
 * `watchLogs` for a describe block (call it in the block, as `useTestDb`): its logger is for
 * the code a test builds itself (a runner, a sink, a reconciler pass, a server); checked after
 * each test, and at the block's end.
 */
export function useLogWatch(
  db: Db | (() => Db | undefined) | null,
  gateway?: SentRecord | null,
): LogWatch {
  const watch = watchLogs(db, gateway);
  afterAll(() => watch.done());
  return watch;
}

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
  // Everything at trace, kept in memory for the leak check.
  const watch = watchLogs(db, gateway);
  const { logger } = watch;
  const sink = createSink(db, queues, logger, clock);
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: 'en',
    logger,
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
    logger,
    now: clock,
  });
  const pipeline: Pipeline = {
    runner,
    queues,
    redis,
    prefix,
    gateway,
    sink,
    logger,
    leaks: watch.leaks,
    logs: watch.logs,
    checkLogs: watch.checkLogs,
    close: async () => {
      await workers.close();
      await Promise.all(
        Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
      );
      await closeQueues(queues);
      redis.disconnect();
      await watch.done();
    },
  };
  return pipeline;
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
