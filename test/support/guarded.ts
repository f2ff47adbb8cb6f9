import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { loadTemplateClasses, type TemplateClasses } from '../../src/catalog/template-classes.js';
import type { SendOutcome, SmsGateway } from '../../src/runner/outbound.js';
import { defaultRules } from '../../src/runner/rules/index.js';
import { createRunner } from '../../src/runner/runner.js';
import { createSendGuard, guardedGateway } from '../../src/runner/send-guard.js';
import type { Pacer } from '../../src/scheduler/pacing.js';
import { closeQueues, createQueues } from '../../src/scheduler/queues.js';
import { createSink, enqueueSends } from '../../src/scheduler/sink.js';
import { startWorkers } from '../../src/scheduler/workers.js';
import type { Db } from '../../src/store/db.js';
import { insertOutbound } from '../../src/store/repos/messages.js';
import { type SentRecord, waitFor, watchLogs } from './pipeline.js';

/** A provider double whose answers are scripted; unscripted sends are accepted. */
export class ScriptGateway implements SmsGateway {
  readonly accepted: { ourId: string; to: string; body: string; sid: string }[] = [];
  script: SendOutcome[] = [];
  /** Answer given to every send when the script is empty (default: accept). */
  always: SendOutcome | null = null;
  calls = 0;

  async send(m: { ourId: string; to: string; body: string }): Promise<SendOutcome> {
    this.calls += 1;
    const next = this.script.shift() ?? this.always;
    if (next && next.kind !== 'sent') return next;
    const sid = `SM${randomBytes(16).toString('hex')}`;
    this.accepted.push({ ...m, sid });
    return { kind: 'sent', sid };
  }

  async reconcile(m: { ourId: string }): Promise<{ sid: string } | null> {
    const found = this.accepted.find((a) => a.ourId === m.ourId);
    return found ? { sid: found.sid } : null;
  }
}

/** A pacer a test can hold shut: sends wait at `take()` until `open()`. */
export class GatePacer implements Pacer {
  waiting = 0;
  private release: (() => void) | null = null;
  private gate: Promise<void> | null = null;

  close(): void {
    this.gate = new Promise((r) => {
      this.release = r;
    });
  }

  open(): void {
    this.release?.();
    this.gate = null;
  }

  async take(): Promise<number> {
    if (!this.gate) return 0;
    this.waiting += 1;
    await this.gate;
    this.waiting -= 1;
    return 0;
  }
}

/**
 * The real runner (default global rules), queues and workers, with the provider behind the
 * composed service's send guard and a pacer: as `buildService` wires them.
 */
export function startGuardedPipeline(db: Db, extraClasses: TemplateClasses = {}) {
  return startGuardedPipelineWith(db, new ScriptGateway(), extraClasses);
}

/**
 * As `startGuardedPipeline`, with the given provider behind the send guard (a real gateway to
 * a local fake, say) instead of a scripted one. The pacer is open unless a test closes it: it
 * then holds nothing back, as no pacer at all (SMS_RATE 0).
 */
export async function startGuardedPipelineWith<G extends SmsGateway>(
  db: Db,
  provider: G,
  extraClasses: TemplateClasses = {},
) {
  const catalog = await loadCheckedCatalog('flows', 'locales');
  const classes = { ...(await loadTemplateClasses('locales')), ...extraClasses };
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redis, prefix);
  const pacer = new GatePacer();
  const now = () => new Date();
  // Checklist 90: at trace into memory, checked after each test and at close (the numbers and
  // bodies of the database and, when the provider records them, of what it accepted).
  const recorded = provider as Partial<SentRecord>;
  const sent = recorded.accepted ? { accepted: recorded.accepted } : null;
  const watch = watchLogs(db, sent);
  const { logger } = watch;
  const sink = createSink(db, queues, logger, now);
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: 'en',
    logger,
    now,
    sink,
    rules: defaultRules({
      locales: catalog.locales,
      defaultLang: 'en',
      flows: catalog.flows,
      logger,
      now,
    }),
  });
  const workers = await startWorkers({
    db,
    redis,
    queues,
    prefix,
    runner,
    gateway: guardedGateway(provider, createSendGuard(db, classes), pacer),
    logger,
  });

  /** Writes an outbox row and queues it as the sink does; returns its id. */
  async function queueMessage(
    participantId: string,
    phone: string,
    opts: { kind?: string; templateKey?: string | null; body?: string } = {},
  ): Promise<string> {
    const { message } = await insertOutbound(db, {
      channel: 'sms',
      participantId,
      address: phone,
      body: opts.body ?? 'See you tomorrow at 10:00.',
      kind: opts.kind ?? 'reminder',
      templateKey: opts.templateKey === undefined ? 'reminder.same_day' : opts.templateKey,
    });
    await enqueueSends(queues, [{ id: message.id, priority: 0 }]);
    return message.id;
  }

  /** Waits for the message's job to finish; returns its state and what it returned. */
  async function finished(messageId: string) {
    const jobId = `send-${messageId}`;
    let state = '';
    await waitFor(async () => {
      state = await queues.outbound.getJobState(jobId);
      return state === 'completed' || state === 'failed';
    });
    const job = (await queues.outbound.getJob(jobId))!;
    const row = await db.query<{
      status: string;
      skip_reason: string | null;
      error_code: string | null;
    }>('SELECT status, skip_reason, error_code FROM messages WHERE id = $1', [messageId]);
    return { state, returned: job.returnvalue as unknown, job, message: row.rows[0]! };
  }

  return {
    provider,
    pacer,
    queues,
    runner,
    queueMessage,
    finished,
    logger,
    leaks: watch.leaks,
    logs: watch.logs,
    checkLogs: watch.checkLogs,
    close: async () => {
      pacer.open();
      await workers.close();
      await Promise.all(
        Object.values(queues).map((q) => q.obliterate({ force: true }).catch(() => undefined)),
      );
      await closeQueues(queues);
      redis.disconnect();
      await watch.done();
    },
  };
}

export type GuardedPipeline = Awaited<ReturnType<typeof startGuardedPipeline>>;

/** The link-worker notices recorded for a participant, by reason. */
export async function notices(db: Db, participantId: string): Promise<string[]> {
  const { rows } = await db.query<{ reason: string }>(
    `SELECT detail->>'reason' AS reason FROM audit_events
     WHERE participant_id = $1 AND kind = 'link_worker_notice' ORDER BY id`,
    [participantId],
  );
  return rows.map((r) => r.reason);
}
