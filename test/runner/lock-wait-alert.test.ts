import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerMetrics } from '../../src/http/metrics.js';
import { buildServer } from '../../src/http/server.js';
import { createLockAlert, lockWaitFigures } from '../../src/scheduler/lock-alert.js';
import { unwatchLockWaits, watchLockWaits } from '../../src/store/participant-lock.js';
import { drivers, sleep, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../store/drivers.js';
import { capturedLogger } from '../support/log-capture.js';
import { useLogWatch } from '../support/pipeline.js';
import { type RulesPipeline, startRulesPipeline, waitFor } from './rules/support.js';

const driver = drivers.find((d) => d.name === 'pg')!;
const THRESHOLD_MS = 400;

/**
 * Checklist 19, the alert: a wait for a participant's lock longer than LOCK_WAIT_ALERT_MS is
 * logged (with the participant's reference, never the number) and shows in /metrics while it
 * lasts; the message is still handled once the holder lets go.
 */
describe('a long wait for a participant lock raises the alert (checklist 19)', () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  const { logger, output } = capturedLogger('info');
  const app = buildServer({ logger: logs.logger, checks: {} });
  let p: RulesPipeline;
  let watch: ReturnType<typeof createLockAlert>;
  beforeAll(async () => {
    p = await startRulesPipeline(getDb());
    watch = createLockAlert({
      db: getDb(),
      redis: p.redis,
      prefix: p.prefix,
      thresholdMs: THRESHOLD_MS,
      logger,
    });
    watchLockWaits(watch);
    registerMetrics(app, {
      overdueTimers: async () => 0,
      queueDepths: async () => ({}),
      lockWaits: () => lockWaitFigures(p.redis, p.prefix),
    });
  });
  afterAll(async () => {
    unwatchLockWaits(watch);
    await app.close();
    await p.redis.del(`${p.prefix}:ops:lock_wait_alerts`, `${p.prefix}:ops:lock_waiting`);
    await p.close();
  });

  const metric = async (name: string) => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    return Number(new RegExp(`^${name} ([0-9.]+)$`, 'm').exec(res.body)?.[1]);
  };
  const lines = () =>
    output()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  it('19: a lock held by another connection: the alert fires with the reference, the message is handled after release', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    const who = await p.participant(phone);
    expect(await metric('linkline_lock_wait_alerts_total')).toBe(0);
    expect(await metric('linkline_lock_waits_over_threshold')).toBe(0);
    // Another "worker" holds this participant's lock in its own connection.
    const schema = (await getDb().query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const holder = new pg.Client({
      connectionString: TEST_DATABASE_URL,
      options: `-c search_path=${schema}`,
    });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(
        "SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1::text, 0))",
        [who.id],
      );
      await p.text(phone, 'yes');
      // The alert fires while the wait goes on: a warn line, and the gauge at 1.
      await waitFor(() =>
        lines().some((l) => l.msg === 'participant lock wait over threshold' && l.ref === who.ref),
      );
      expect(await metric('linkline_lock_wait_alerts_total')).toBe(1);
      expect(await metric('linkline_lock_waits_over_threshold')).toBe(1);
      expect(await metric('linkline_lock_wait_longest_seconds')).toBeGreaterThanOrEqual(
        THRESHOLD_MS / 1000,
      );
      const waiting = await getDb().query(
        "SELECT 1 FROM messages WHERE address = $1 AND direction = 'in' AND processed_at IS NULL",
        [phone],
      );
      expect(waiting.rowCount).toBe(1);
      await holder.query('COMMIT');
    } finally {
      await holder.end();
    }
    // Released: the waiting message is handled and answered; the gauge goes back to 0.
    await p.handled(phone);
    await waitFor(() => p.gateway.to(phone).length === 2);
    expect((await p.participant(phone)).consent).toBe('given');
    await waitFor(async () => (await metric('linkline_lock_waits_over_threshold')) === 0);
    expect(await metric('linkline_lock_wait_alerts_total')).toBe(1);
    const ended = lines().find((l) => l.msg === 'participant lock wait ended');
    expect(ended).toMatchObject({ ref: who.ref, acquired: true, level: 'warn' });
    expect(Number(ended?.waitedMs)).toBeGreaterThanOrEqual(THRESHOLD_MS);
    // The reference, never the number.
    expect(output()).not.toContain(phone);
    expect(output()).not.toContain(phone.slice(1));
  });

  it('a wait shorter than the threshold raises nothing', async () => {
    const phone = uniquePhone();
    await p.say(phone, 'hello', 1);
    const before = await lockWaitFigures(p.redis, p.prefix);
    await p.say(phone, 'yes', 1);
    await sleep(THRESHOLD_MS);
    expect(await lockWaitFigures(p.redis, p.prefix)).toEqual({ ...before, longestSeconds: 0 });
  });
});
