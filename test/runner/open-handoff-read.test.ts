import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { createRunner, type GlobalRule } from '../../src/runner/runner.js';
import type { Db } from '../../src/store/db.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';

const driver = drivers.find((d) => d.name === 'pg')!;

/**
 * The participant's open hand-off is read with the turn's other reads (one round trip less
 * per text for the Slack relay rule); a rule that opened or raised one earlier in the turn
 * makes the later rules read it again.
 */
describe('an inbound turn reads the open hand-off for the rules', () => {
  const getDb = useTestDb(driver, { migrated: true });
  // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
  const logs = useLogWatch(getDb);

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

  /** Rules: `first` (may open a hand-off), then one that records what it was told and stops. */
  function runner(first: GlobalRule) {
    const seen: (string | null | undefined)[] = [];
    const record: GlobalRule = async (ctx) => {
      seen.push(ctx.openHandoff);
      return true;
    };
    const r = createRunner({
      db: getDb(),
      flows: {},
      locales: {} as never,
      defaultLang: 'en',
      logger: logs.logger,
      now: () => new Date(),
      sink: async () => {},
      rules: [first, record],
    });
    return { r, seen };
  }

  const openHandoff = async (db: Db, phone: string): Promise<string> => {
    const { rows } = await db.query<{ id: string }>(
      `INSERT INTO handoffs (participant_id, reason)
       SELECT id, 'asked_for_person' FROM participants WHERE phone = $1 RETURNING id`,
      [phone],
    );
    return rows[0]!.id;
  };

  it('none open: null; open: its id (alone or in a batch); closed: null', async () => {
    const phone = uniquePhone();
    const { r, seen } = runner(async () => false);
    await r.handleInbound(await text(phone, 'hello'));
    const id = await openHandoff(getDb(), phone);
    await r.handleInbound(await text(phone, 'still there?'));
    await r.handleInboundBatch([await text(phone, 'hello?')]);
    await getDb().query("UPDATE handoffs SET status = 'closed' WHERE id = $1", [id]);
    await r.handleInbound(await text(phone, 'bye'));
    expect(seen).toEqual([null, id, id, null]);
  });

  it('a rule earlier in the turn opened a hand-off: the rules after it are told nothing (they read)', async () => {
    const phone = uniquePhone();
    const opener: GlobalRule = async (ctx) => {
      const id = await openHandoff(ctx.tx, phone);
      ctx.effects.handoffs.push(id);
      return false;
    };
    const { r, seen } = runner(opener);
    await r.handleInbound(await text(phone, 'hello'));
    expect(seen).toEqual([undefined]);
  });
});
