import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { defaultRules } from '../../src/runner/rules/index.js';
import { createRunner } from '../../src/runner/runner.js';
import { reconcile } from '../../src/scheduler/reconciler.js';
import { drivers, sleep, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';
import { type RulesPipeline, startRulesPipeline, waitFor } from './rules/support.js';

const driver = drivers.find((d) => d.name === 'pg')!;

describe('crashes and ordering around the participant lock (checklist 16, 17, 19)', () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let p: RulesPipeline;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
  });
  afterAll(async () => p.close());

  const sid = () => `SM${randomBytes(16).toString('hex')}`;

  it('16: a crash after the reply was committed but before it was queued: the reply goes exactly once', async () => {
    const phone = uniquePhone();
    const catalog = await loadCheckedCatalog('flows', 'locales');
    const now = () => new Date();
    // A runner whose process "dies" right after COMMIT: its effects never reach Redis.
    const crashing = createRunner({
      db: getDb(),
      flows: catalog.flows,
      locales: catalog.locales,
      defaultLang: 'en',
      logger: logs.logger,
      now,
      sink: async () => {
        throw new Error('killed after commit');
      },
      rules: defaultRules({
        locales: catalog.locales,
        defaultLang: 'en',
        logger: logs.logger,
        now,
      }),
    });
    const r = await acceptInbound(getDb(), {
      sid: sid(),
      from: phone,
      body: 'hello',
      numMedia: 0,
      segments: 1,
    });
    await expect(crashing.handleInbound(r.messageId)).rejects.toThrow('killed after commit');
    expect(p.gateway.to(phone)).toEqual([]);
    // Twilio (or our reconciler) delivers the message again: handled already, nothing new.
    await crashing.handleInbound(r.messageId).catch(() => undefined);
    const replies = await getDb().query(
      "SELECT id FROM messages WHERE address = $1 AND direction = 'out'",
      [phone],
    );
    expect(replies.rowCount).toBe(1);
    // The reconciler finds the committed reply with no job and queues it: sent once.
    const later = new Date(Date.now() + 60_000);
    await reconcile(getDb(), p.redis, p.queues, p.prefix, later, logs.logger);
    await reconcile(getDb(), p.redis, p.queues, p.prefix, later, logs.logger);
    await waitFor(() => p.gateway.to(phone).length === 1);
    await sleep(500);
    expect(p.gateway.to(phone)).toHaveLength(1);
  });

  it('17: "yes" then "no" 200 ms apart end in the same state as when sent one after the other', async () => {
    const fast = uniquePhone();
    const slow = uniquePhone();
    for (const phone of [fast, slow]) await p.say(phone, 'hello', 1);
    await p.text(fast, 'yes');
    await sleep(200);
    await p.text(fast, 'Sam');
    await p.handled(fast);
    await p.say(slow, 'yes', 1);
    await p.say(slow, 'Sam', 1);
    const a = await p.conversation(fast);
    const b = await p.conversation(slow);
    expect(a?.state.node).toBe(b?.state.node);
    expect(a?.state.answers).toEqual(b?.state.answers);
    expect((await p.participant(fast)).firstName).toBe('Sam');
    await waitFor(() => p.gateway.to(fast).length === 3);
    expect(p.gateway.to(fast)).toEqual(p.gateway.to(slow));
  });

  it('19: a lock holder that dies releases the lock; the waiting message is then handled', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    const who = await p.participant(phone);
    // Another "worker" takes this participant's lock and hangs.
    const schema = (await getDb().query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const holder = new pg.Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${schema}`,
    });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(
      "SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))",
      [who.id],
    );
    const pid = (await holder.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!
      .pid;
    await p.text(phone, 'yes');
    await sleep(1_000);
    const waiting = await getDb().query(
      "SELECT 1 FROM messages WHERE address = $1 AND direction = 'in' AND processed_at IS NULL",
      [phone],
    );
    expect(waiting.rowCount).toBe(1);
    // The holder is killed (SIGKILL of its process drops its connection the same way).
    await getDb().query('SELECT pg_terminate_backend($1)', [pid]);
    await p.handled(phone);
    await waitFor(() => p.gateway.to(phone).length === 2);
    expect((await p.participant(phone)).consent).toBe('given');
  });
});
