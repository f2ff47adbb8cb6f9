import { describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import type { Db } from '../../src/store/db.js';
import { takeInboundTurn } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';

/** The port with every round trip counted (transactions count their BEGIN and COMMIT). */
function counted(db: Db) {
  const calls = { queries: 0, transactions: 0 };
  const port = {
    ...db,
    query: (sql: string, params?: readonly unknown[]) => {
      calls.queries += 1;
      return db.query(sql, params);
    },
    transaction: <T>(fn: (tx: Db) => Promise<T>) => {
      calls.transactions += 1;
      return db.transaction(fn);
    },
  } as Db;
  return { port, calls };
}

let sidCounter = 0;
const sms = (from: string, body = 'hello') => {
  sidCounter += 1;
  return {
    sid: `SM${String(sidCounter).padStart(32, '0')}`,
    from,
    body,
    numMedia: 0,
    segments: 1,
  };
};

for (const driver of drivers) {
  describe(`acceptInbound: the webhook's store in one statement (${driver.name})`, () => {
    const getDb = useTestDb(driver, { migrated: true });
    const participantOf = async (messageId: string) =>
      (
        await getDb().query<{ participant_id: string | null }>(
          'SELECT participant_id FROM messages WHERE id = $1',
          [messageId],
        )
      ).rows[0]?.participant_id;

    it('a new number: participant and message in one round trip, no transaction', async () => {
      const { port, calls } = counted(getDb());
      const phone = uniquePhone();
      const got = await acceptInbound(port, sms(phone));
      expect(got).toMatchObject({ inserted: true, lead: false });
      expect(calls).toEqual({ queries: 1, transactions: 0 });
      const { rows } = await getDb().query<{ id: string; ref: string }>(
        'SELECT id, ref FROM participants WHERE phone = $1',
        [phone],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.ref).toMatch(/^P-[0-9A-Z]{4}$/);
      expect(await participantOf(got.messageId)).toBe(rows[0]!.id);
    });

    it('a known number: its participant, one round trip; the same MessageSid again: the first row', async () => {
      const phone = uniquePhone();
      const first = await acceptInbound(getDb(), sms(phone));
      const { port, calls } = counted(getDb());
      const second = sms(phone, 'yes');
      const got = await acceptInbound(port, second);
      expect(got.inserted).toBe(true);
      expect(calls).toEqual({ queries: 1, transactions: 0 });
      expect(await participantOf(got.messageId)).toBe(await participantOf(first.messageId));
      const again = await acceptInbound(port, second);
      expect(again).toEqual({ inserted: false, messageId: got.messageId, lead: false });
      const { rows } = await getDb().query<{ n: number }>(
        'SELECT count(*)::int AS n FROM participants WHERE phone = $1',
        [phone],
      );
      expect(rows[0]!.n).toBe(1);
    });

    it("an activity lead's number: stored without a participant, and said to be a lead", async () => {
      const phone = uniquePhone();
      await getDb().query(
        `INSERT INTO activities (name, location, lead_phone) VALUES ('Walk', 'the Park', $1)`,
        [phone],
      );
      const got = await acceptInbound(getDb(), sms(phone, 'all came'));
      expect(got).toMatchObject({ inserted: true, lead: true });
      expect(await participantOf(got.messageId)).toBeNull();
      const { rows } = await getDb().query('SELECT 1 FROM participants WHERE phone = $1', [phone]);
      expect(rows).toHaveLength(0);
    });

    it('a sender that is not a phone number: stored without a participant', async () => {
      const got = await acceptInbound(getDb(), sms('LINKLINE'));
      expect(got).toMatchObject({ inserted: true, lead: false });
      expect(await participantOf(got.messageId)).toBeNull();
    });

    it('a new number whose fresh ref is taken: the slow path still creates one participant', async () => {
      const taken = await acceptInbound(getDb(), sms(uniquePhone()));
      const { rows: refs } = await getDb().query<{ ref: string }>(
        'SELECT p.ref FROM participants p JOIN messages m ON m.participant_id = p.id WHERE m.id = $1',
        [taken.messageId],
      );
      const { port, calls } = counted(getDb());
      const phone = uniquePhone();
      const got = await acceptInbound(port, sms(phone), () => refs[0]!.ref);
      expect(got).toMatchObject({ inserted: true, lead: false });
      expect(calls.transactions).toBe(1);
      const { rows } = await getDb().query<{ id: string; ref: string }>(
        'SELECT id, ref FROM participants WHERE phone = $1',
        [phone],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]!.ref).not.toBe(refs[0]!.ref);
      expect(await participantOf(got.messageId)).toBe(rows[0]!.id);
    });

    it("takeInboundTurn: the participant, their oldest unhandled message (marked handled) and the active conversation's row", async () => {
      const phone = uniquePhone();
      const a = await acceptInbound(getDb(), sms(phone, 'first'));
      const b = await acceptInbound(getDb(), sms(phone, 'second'));
      const pid = (await participantOf(a.messageId))!;
      // A turn that fails rolls its mark back: the message is still the next one.
      await expect(
        getDb().transaction(async (tx) => {
          expect((await takeInboundTurn(tx, pid))?.next?.id).toBe(a.messageId);
          throw new Error('turn failed');
        }),
      ).rejects.toThrow('turn failed');
      const first = await takeInboundTurn(getDb(), pid);
      expect(first).toMatchObject({
        participant: { id: pid, phone },
        next: { id: a.messageId, body: 'first', numMedia: 0 },
        active: null,
      });
      await getDb().query(
        `INSERT INTO conversation_sessions (participant_id, flow_id, status, state)
         VALUES ($1, 'intake', 'waiting', '{"n": 1}'::jsonb)`,
        [pid],
      );
      const second = await takeInboundTurn<{ n: number }>(getDb(), pid);
      expect(second?.next).toEqual({ id: b.messageId, body: 'second', numMedia: 0 });
      expect(second?.active).toMatchObject({
        participantId: pid,
        flowId: 'intake',
        status: 'waiting',
        state: { n: 1 },
        version: expect.any(Number),
        endedAt: null,
      });
      expect(second?.active?.startedAt).toBeInstanceOf(Date);
      expect(second?.active?.updatedAt).toBeInstanceOf(Date);
      expect(second?.participant.createdAt).toBeInstanceOf(Date);
      expect(second?.participant).not.toHaveProperty('nextId');
      expect((await takeInboundTurn(getDb(), pid))?.next).toBeNull();
    });
  });
}
