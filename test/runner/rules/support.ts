import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import type { Session } from '../../../src/engine/index.js';
import { acceptInbound } from '../../../src/runner/accept-inbound.js';
import { defaultRules, type RuleDeps } from '../../../src/runner/rules/index.js';
import { createRunner } from '../../../src/runner/runner.js';
import { closeQueues, createQueues } from '../../../src/scheduler/queues.js';
import { createSink } from '../../../src/scheduler/sink.js';
import { startWorkers } from '../../../src/scheduler/workers.js';
import type { Db } from '../../../src/store/db.js';
import { loadActiveSession } from '../../../src/store/repos/conversation-sessions.js';
import { getParticipantByPhone } from '../../../src/store/repos/participants.js';
import { MemoryGateway, waitFor, watchLogs } from '../../support/pipeline.js';

export { waitFor };

/** The real runner with the default global rules, queues and workers on a real Redis. */
export async function startRulesPipeline(db: Db, options: Partial<RuleDeps> = {}) {
  const catalog = await loadCheckedCatalog('flows', 'locales');
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const prefix = `lltest-${randomBytes(4).toString('hex')}`;
  const queues = createQueues(redis, prefix);
  const gateway = new MemoryGateway();
  const now = () => new Date();
  // Checklist 90: at trace into memory, checked after each test and at close.
  const watch = watchLogs(db, gateway);
  const { logger } = watch;
  const sink = createSink(db, queues, logger, now);
  const rules = defaultRules({
    locales: catalog.locales,
    defaultLang: 'en',
    flows: catalog.flows,
    logger,
    now,
    ...options,
  });
  const runner = createRunner({
    db,
    flows: catalog.flows,
    locales: catalog.locales,
    defaultLang: 'en',
    logger,
    now,
    sink,
    rules,
  });
  const workers = await startWorkers({
    db,
    redis,
    queues,
    prefix,
    runner,
    gateway,
    logger,
  });
  let sid = 0;
  const tag = randomBytes(8).toString('hex');

  /** A text from the participant, stored and queued as the webhook does. */
  async function text(from: string, body: string, numMedia = 0) {
    watch.leaks.phone(from, 'a texter');
    watch.leaks.add('an SMS body a participant sent', body);
    sid += 1;
    const r = await acceptInbound(db, {
      sid: `SM${tag}${String(sid).padStart(16, '0')}`,
      from,
      body,
      numMedia,
      segments: 1,
    });
    if (r.inserted)
      await queues.inbound.add(
        'inbound',
        { messageId: r.messageId },
        { jobId: `in-${r.messageId}` },
      );
    return r;
  }

  /** Waits until every inbound message of this number has been handled. */
  async function handled(phone: string) {
    await waitFor(async () => {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM messages WHERE address = $1 AND direction = 'in'
           AND processed_at IS NULL`,
        [phone],
      );
      return rows[0]?.n === 0;
    });
  }

  /** Texts and waits until this and all earlier messages are handled and `sent` replies arrive. */
  async function say(phone: string, body: string, replies: number, numMedia = 0) {
    const before = gateway.to(phone).length;
    await text(phone, body, numMedia);
    await handled(phone);
    await waitFor(() => gateway.to(phone).length >= before + replies);
    return gateway.to(phone).slice(before);
  }

  async function participant(phone: string) {
    const p = await getParticipantByPhone(db, phone);
    if (!p) throw new Error('no participant');
    return p;
  }

  async function conversation(phone: string) {
    return loadActiveSession<Session>(db, (await participant(phone)).id);
  }

  return {
    queues,
    redis,
    prefix,
    gateway,
    text,
    say,
    handled,
    participant,
    conversation,
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
}

export type RulesPipeline = Awaited<ReturnType<typeof startRulesPipeline>>;
