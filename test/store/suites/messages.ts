import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import {
  getMessage,
  insertInbound,
  insertOutbound,
  listOutbox,
  markStatus,
  markStatusMany,
} from '../../../src/store/repos/messages.js';
import { uniquePhone } from '../drivers.js';

let sidCounter = 0;
const newSid = (): string => {
  sidCounter += 1;
  return `SM${String(sidCounter).padStart(32, '0')}`;
};

export function messagesSuite(getDb: () => Db): void {
  describe('messages', () => {
    it('stores an inbound message once, however often it is delivered', async () => {
      const db = getDb();
      const m = { channel: 'sms', providerSid: newSid(), address: uniquePhone(), body: ' Yes ' };
      const first = await insertInbound(db, { ...m, channel: 'sms' });
      const again = await insertInbound(db, { ...m, channel: 'sms' });
      expect(first.inserted).toBe(true);
      expect(again).toEqual({ inserted: false, id: first.id });
      expect((await getMessage(db, first.id))?.body).toBe(' Yes ');
    });

    it('inserts 10 concurrent duplicates exactly once', async () => {
      const db = getDb();
      const providerSid = newSid();
      const results = await Promise.all(
        Array.from({ length: 10 }, () =>
          insertInbound(db, { channel: 'sms', providerSid, address: uniquePhone(), body: 'hi' }),
        ),
      );
      expect(results.filter((r) => r.inserted)).toHaveLength(1);
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const { rows } = await db.query<{ n: number }>(
        'SELECT count(*) AS n FROM messages WHERE provider_sid = $1',
        [providerSid],
      );
      expect(rows[0]?.n).toBe(1);
    });

    it('makes an outbound insert idempotent on its dedupe key', async () => {
      const db = getDb();
      const out = { channel: 'sms', kind: 'reminder', body: 'See you tomorrow', dedupeKey: 'k-1' };
      const a = await insertOutbound(db, { ...out, channel: 'sms' });
      const b = await insertOutbound(db, { ...out, channel: 'sms' });
      expect(a.inserted).toBe(true);
      expect(a.message).toMatchObject({ direction: 'out', status: 'queued', kind: 'reminder' });
      expect(b).toEqual({ inserted: false, message: a.message });
    });

    it('never moves a status backwards; duplicates are harmless', async () => {
      const db = getDb();
      const { message } = await insertOutbound(db, { channel: 'sms', kind: 'conversation' });
      const sid = newSid();
      expect(await markStatus(db, { id: message.id }, { status: 'sending' })).toBe(true);
      expect(await markStatus(db, { id: message.id }, { status: 'sent', providerSid: sid })).toBe(
        true,
      );
      expect(await markStatus(db, { providerSid: sid }, { status: 'delivered' })).toBe(true);
      expect(await markStatus(db, { providerSid: sid }, { status: 'sent' })).toBe(false);
      expect(await markStatus(db, { providerSid: sid }, { status: 'delivered' })).toBe(false);
      expect(await markStatus(db, { id: message.id }, { status: 'queued' })).toBe(false);
      const stored = await getMessage(db, message.id);
      expect(stored).toMatchObject({ status: 'delivered', providerSid: sid });
      expect(stored?.sentAt).toBeInstanceOf(Date);
    });

    it('markStatusMany: per row the most advanced status of the batch, forward only, with the sid it held', async () => {
      const db = getDb();
      const a = (await insertOutbound(db, { channel: 'sms', kind: 'conversation' })).message;
      const b = (await insertOutbound(db, { channel: 'sms', kind: 'reminder' })).message;
      const done = (await insertOutbound(db, { channel: 'sms', kind: 'conversation' })).message;
      const [sa, sb, sd, late] = [newSid(), newSid(), newSid(), newSid()];
      await markStatus(db, { id: b.id }, { status: 'sent', providerSid: sb });
      await markStatus(db, { id: done.id }, { status: 'delivered', providerSid: sd });
      const results = await markStatusMany(db, [
        { id: a.id, providerSid: sa, status: 'sent', errorCode: null },
        { id: a.id, providerSid: sa, status: 'delivered', errorCode: null },
        { id: a.id, providerSid: sa, status: 'delivered', errorCode: null },
        { id: b.id, providerSid: late, status: 'undelivered', errorCode: '30003' },
        { id: done.id, providerSid: sd, status: 'sent', errorCode: null },
        {
          id: '00000000-0000-4000-8000-000000000000',
          providerSid: sa,
          status: 'sent',
          errorCode: null,
        },
      ]);
      expect(results).toEqual([
        { found: true, moved: false, priorSid: null },
        { found: true, moved: true, priorSid: null },
        { found: true, moved: false, priorSid: null },
        { found: true, moved: true, priorSid: sb },
        { found: true, moved: false, priorSid: sd },
        { found: false, moved: false, priorSid: null },
      ]);
      expect(await getMessage(db, a.id)).toMatchObject({ status: 'delivered', providerSid: sa });
      // The row keeps the sid it was sent with.
      expect(await getMessage(db, b.id)).toMatchObject({
        status: 'undelivered',
        errorCode: '30003',
        providerSid: sb,
      });
      expect(await getMessage(db, done.id)).toMatchObject({ status: 'delivered' });
      expect((await getMessage(db, a.id))?.sentAt).toBeInstanceOf(Date);
    });

    it('treats failed and undelivered as terminal, whatever arrives late', async () => {
      const db = getDb();
      const { message } = await insertOutbound(db, { channel: 'sms', kind: 'reminder' });
      expect(await markStatus(db, { id: message.id }, { status: 'sent' })).toBe(true);
      const failed = { status: 'undelivered', errorCode: '30003' } as const;
      expect(await markStatus(db, { id: message.id }, failed)).toBe(true);
      const late = await Promise.all(
        (['sending', 'sent', 'delivered', 'failed'] as const).map((status) =>
          markStatus(db, { id: message.id }, { status }),
        ),
      );
      expect(late).toEqual([false, false, false, false]);
      expect(await getMessage(db, message.id)).toMatchObject({
        status: 'undelivered',
        errorCode: '30003',
      });
    });

    it('lists the outbox by priority, then age, and leaves skipped rows out', async () => {
      const db = getDb();
      await db.query(`UPDATE messages SET status = 'failed' WHERE status = 'queued'`);
      const low = await insertOutbound(db, { channel: 'sms', kind: 'reminder' });
      const urgent = await insertOutbound(db, { channel: 'sms', kind: 'safety', priority: 9 });
      await insertOutbound(db, { channel: 'sms', kind: 'reminder', skipReason: 'quiet_hours' });
      const ids = (await listOutbox(db)).map((m) => m.id);
      expect(ids).toEqual([urgent.message.id, low.message.id]);
    });
  });
}
