import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import type { LocaleSet } from '../../src/engine/index.js';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import type { Effects } from '../../src/runner/effects.js';
import { defaultRules } from '../../src/runner/rules/index.js';
import { createRunner, type GlobalRule } from '../../src/runner/runner.js';
import type { Db } from '../../src/store/db.js';
import { drivers, TEST_DATABASE_URL, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';

const driver = drivers.find((d) => d.name === 'pg')!;

describe('inbound turns in one transaction (group commit)', () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);
  let catalog: Awaited<ReturnType<typeof loadCheckedCatalog>>;
  beforeAll(async () => {
    catalog = await loadCheckedCatalog('flows', 'locales');
  });

  /** A runner whose sink records each call's effects; `extra` rules run first. */
  function runner(db: Db, extra: GlobalRule[] = []) {
    const sunk: Effects[] = [];
    const now = () => new Date();
    const locales: LocaleSet = catalog.locales;
    const r = createRunner({
      db,
      flows: catalog.flows,
      locales,
      defaultLang: 'en',
      logger: logs.logger,
      now,
      sink: async (e) => {
        sunk.push(e);
      },
      rules: [...extra, ...defaultRules({ locales, defaultLang: 'en', logger: logs.logger, now })],
    });
    return { r, sunk };
  }

  const text = async (phone: string, body: string) =>
    (
      await acceptInbound(getDb(), {
        sid: `SM${randomBytes(16).toString('hex')}`,
        from: phone,
        body,
        numMedia: 0,
        segments: 1,
      })
    ).messageId;

  const outbound = async (phone: string) =>
    (
      await getDb().query<{ body: string }>(
        "SELECT body FROM messages WHERE address = $1 AND direction = 'out' ORDER BY seq",
        [phone],
      )
    ).rows.map((m) => m.body);

  const unprocessed = async (phone: string) =>
    (
      await getDb().query<{ n: number }>(
        "SELECT count(*)::int AS n FROM messages WHERE address = $1 AND direction = 'in' AND processed_at IS NULL",
        [phone],
      )
    ).rows[0]!.n;

  it('texts of three participants, two from one of them, in one batch: each handled once, in order, effects sunk once', async () => {
    const [a, b, c] = [uniquePhone(), uniquePhone(), uniquePhone()];
    // The same texts, one at a time, give the replies to compare with.
    const [a2, b2, c2] = [uniquePhone(), uniquePhone(), uniquePhone()];
    const { r, sunk } = runner(getDb());
    for (const [phone, body] of [
      [a2, 'hello'],
      [b2, 'hi'],
      [a2, 'yes'],
      [c2, 'HELP'],
    ] as const)
      await r.handleInbound(await text(phone, body));
    sunk.length = 0;

    const ids = [
      await text(a, 'hello'),
      await text(b, 'hi'),
      await text(a, 'yes'),
      await text(c, 'HELP'),
    ];
    expect(await r.handleInboundBatch(ids)).toEqual(['done', 'done', 'done', 'done']);
    expect(sunk).toHaveLength(1);
    expect(sunk[0]!.sends).toHaveLength(4);
    for (const phone of [a, b, c]) expect(await unprocessed(phone)).toBe(0);
    expect(await outbound(a)).toEqual(await outbound(a2));
    expect(await outbound(a)).toHaveLength(2);
    expect(await outbound(b)).toEqual(await outbound(b2));
    expect(await outbound(c)).toEqual(await outbound(c2));
    // Delivered again (a job retried): nothing new.
    expect(await r.handleInboundBatch(ids)).toEqual(['done', 'done', 'done', 'done']);
    expect(await outbound(a)).toHaveLength(2);
  });

  it('a participant whose lock is held elsewhere: their text comes back alone, the others are done', async () => {
    const [busy, free] = [uniquePhone(), uniquePhone()];
    const ids = [await text(busy, 'hello'), await text(free, 'hello')];
    const { rows } = await getDb().query<{ participant_id: string }>(
      'SELECT participant_id FROM messages WHERE id = $1',
      [ids[0]],
    );
    const schema = (await getDb().query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!.s;
    const holder = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await holder.connect();
    try {
      await holder.query(`SET search_path = ${schema}`);
      await holder.query('BEGIN');
      await holder.query(
        "SELECT pg_advisory_xact_lock(hashtextextended('participant:' || $1, 0))",
        [rows[0]!.participant_id],
      );
      const { r } = runner(getDb());
      expect(await r.handleInboundBatch(ids)).toEqual(['alone', 'done']);
      expect(await unprocessed(busy)).toBe(1);
      expect(await unprocessed(free)).toBe(0);
      await holder.query('COMMIT');
      await r.handleInbound(ids[0]!);
      expect(await unprocessed(busy)).toBe(0);
      expect(await outbound(busy)).toHaveLength(1);
    } finally {
      await holder.end();
    }
  });

  it('a turn that throws rolls the whole batch back: every text comes back alone, nothing written or sunk', async () => {
    const [ok, bad] = [uniquePhone(), uniquePhone()];
    const failing: GlobalRule = async (ctx) => {
      if (ctx.text === 'boom') throw new Error('rule failed');
      return false;
    };
    const { r, sunk } = runner(getDb(), [failing]);
    const ids = [await text(ok, 'hello'), await text(bad, 'boom')];
    expect(await r.handleInboundBatch(ids)).toEqual(['alone', 'alone']);
    expect(sunk).toEqual([]);
    expect(await unprocessed(ok)).toBe(1);
    expect(await outbound(ok)).toEqual([]);
    // Alone, the good one goes through and the failing one fails by itself.
    await r.handleInbound(ids[0]!);
    expect(await outbound(ok)).toHaveLength(1);
    await expect(r.handleInbound(ids[1]!)).rejects.toThrow('rule failed');
    expect(await unprocessed(bad)).toBe(1);
  });
});
