import { describe, expect, it } from 'vitest';
import {
  RetrySend,
  type SendOutcome,
  type SmsGateway,
  sendOutbound,
  WaitTurn,
} from '../../src/runner/outbound.js';
import { createSendGuard, guardedGateway } from '../../src/runner/send-guard.js';
import {
  claimSends,
  getMessage,
  insertOutbound,
  markSentMany,
} from '../../src/store/repos/messages.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { counting } from '../support/counting-db.js';
import { useLogWatch } from '../support/pipeline.js';

for (const driver of drivers) {
  describe(`sends claimed and marked together (${driver.name})`, () => {
    const getDb = useTestDb(driver, { migrated: true });
    // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
    const logs = useLogWatch(getDb);

    async function queued(participantId?: string) {
      const db = getDb();
      const who = participantId
        ? { id: participantId, phone: uniquePhone() }
        : await createParticipant(db, { phone: uniquePhone() });
      const { message } = await insertOutbound(db, {
        channel: 'sms',
        participantId: who.id,
        address: who.phone,
        body: 'Reminder',
        kind: 'reminder',
      });
      return { id: message.id, participantId: who.id };
    }

    it('claimSends: one statement; an id given twice is claimed once; of two messages to one person only the first', async () => {
      const db = getDb();
      const a = await queued();
      const b = await queued();
      const a2 = await queued(a.participantId);
      const claims = await claimSends(db, [a.id, b.id, a.id, a2.id], 45_000);
      expect(claims.map((c) => c?.claimed)).toEqual([true, true, false, false]);
      expect(claims[3]?.earlier).toBe(true);
      expect((await getMessage(db, a.id))?.status).toBe('sending');
      expect((await getMessage(db, a2.id))?.status).toBe('queued');
      expect(await claimSends(db, ['00000000-0000-4000-8000-000000000000'], 45_000)).toEqual([
        null,
      ]);
    });

    it('markSentMany: sending -> sent with each sid; a message already past sent is not moved back', async () => {
      const db = getDb();
      const a = await queued();
      const b = await queued();
      await claimSends(db, [a.id, b.id], 45_000);
      await db.query(`UPDATE messages SET status = 'delivered' WHERE id = $1`, [b.id]);
      expect(
        await markSentMany(db, [
          { id: a.id, providerSid: 'SMa' },
          { id: b.id, providerSid: 'SMb' },
        ]),
      ).toEqual([true, false]);
      const sent = await getMessage(db, a.id);
      expect(sent?.status).toBe('sent');
      expect(sent?.providerSid).toBe('SMa');
      expect(sent?.sentAt).not.toBeNull();
      expect((await getMessage(db, b.id))?.status).toBe('delivered');
    });

    it('a reply (priority above 0) reaches the gateway as urgent, a reminder does not', async () => {
      const db = getDb();
      const who = await createParticipant(db, { phone: uniquePhone() });
      const reply = await insertOutbound(db, {
        channel: 'sms',
        participantId: who.id,
        address: who.phone,
        body: 'Thanks',
        kind: 'conversation',
        priority: 10,
      });
      const reminder = await queued();
      const seen = new Map<string, boolean | undefined>();
      const gateway: SmsGateway = {
        send: async (m): Promise<SendOutcome> => {
          seen.set(m.ourId, m.urgent);
          return { kind: 'sent', sid: `SM${m.ourId.slice(0, 8)}` };
        },
        reconcile: async () => null,
      };
      await sendOutbound(db, gateway, reply.message.id, logs.logger);
      await sendOutbound(db, gateway, reminder.id, logs.logger);
      expect(seen.get(reply.message.id)).toBe(true);
      expect(seen.get(reminder.id)).toBe(false);
    });

    it('a run that loses the claim to a concurrent one waits its turn (not done), and sends if the other failed', async () => {
      const db = getDb();
      const { id } = await queued();
      const sent: string[] = [];
      let release: (o: SendOutcome) => void = () => undefined;
      const gateway: SmsGateway = {
        send: (m) => {
          sent.push(m.ourId);
          return new Promise<SendOutcome>((resolve) => {
            release = resolve;
          });
        },
        reconcile: async () => null,
      };
      // The direct send of a reply and its job, at the same moment: one claims it.
      const first = sendOutbound(db, gateway, id, logs.logger).catch((e: unknown) => e);
      const second = await sendOutbound(db, gateway, id, logs.logger).catch((e: unknown) => e);
      expect(second).toBeInstanceOf(WaitTurn);
      expect(sent).toHaveLength(1);
      // The claiming run fails retryably: the message is queued again...
      release({ kind: 'retryable', code: '20429' });
      expect(await first).toBeInstanceOf(RetrySend);
      // ...and the waiting run, when it comes back, sends it.
      const ok: SmsGateway = {
        send: async (m) => {
          sent.push(m.ourId);
          return { kind: 'sent', sid: 'SMok' };
        },
        reconcile: async () => null,
      };
      expect(await sendOutbound(db, ok, id, logs.logger)).toBe('sent');
      expect(sent).toHaveLength(2);
      expect((await getMessage(db, id))?.status).toBe('sent');
    });

    it('30 concurrent sends share their claim and sent statements: fewer than 3 per send, each sent once', async () => {
      const ids = await Promise.all(Array.from({ length: 30 }, () => queued()));
      const { db, count } = counting(getDb());
      const calls: string[] = [];
      const gateway: SmsGateway = {
        send: async (m): Promise<SendOutcome> => {
          calls.push(m.ourId);
          return { kind: 'sent', sid: `SM${m.ourId.slice(0, 8)}` };
        },
        reconcile: async () => null,
      };
      const results = await Promise.all(
        ids.map(({ id }) => sendOutbound(db, gateway, id, logs.logger)),
      );
      expect(results.every((r) => r === 'sent')).toBe(true);
      expect(new Set(calls).size).toBe(30);
      expect(calls).toHaveLength(30);
      // One claim and one mark each would be 60 statements.
      expect(count()).toBeLessThanOrEqual(10);
      for (const { id } of ids) expect((await getMessage(db, id))?.status).toBe('sent');
    });

    it('the send guard: concurrent sends share its statement, each gets its own verdict, read after its claim', async () => {
      const db0 = getDb();
      const consenting = async () => {
        const q = await queued();
        await setConsent(db0, q.participantId, 'given', {
          actor: 'participant',
          detail: { channel: 'sms', wording: 'intake.consent@1', lawfulBasis: 'consent' },
        });
        return q;
      };
      const ok = await Promise.all(Array.from({ length: 20 }, consenting));
      const stopped = await consenting();
      const noConsent = await queued();
      const all = [...ok, stopped, noConsent];
      const { db, count } = counting(db0);
      const calls: string[] = [];
      const provider: SmsGateway = {
        send: async (m): Promise<SendOutcome> => {
          calls.push(m.ourId);
          return { kind: 'sent', sid: `SM${m.ourId.slice(0, 8)}` };
        },
        reconcile: async () => null,
      };
      // STOP lands while every send waits for its slot: after their claims ('sending'),
      // before their guard reads.
      let waiting = 0;
      let open: () => void = () => undefined;
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const gateway = guardedGateway(provider, createSendGuard(db, {}), {
        take: async () => {
          waiting += 1;
          if (waiting === all.length) {
            await setOptOut(db0, stopped.participantId, true, { actor: 'participant' });
            open();
          }
          await gate;
          return 0;
        },
      });
      const results = await Promise.all(
        all.map(({ id }) => sendOutbound(db, gateway, id, logs.logger)),
      );
      expect(results.slice(0, 20).every((r) => r === 'sent')).toBe(true);
      expect(results.slice(20)).toEqual(['skipped', 'skipped']);
      expect((await getMessage(db0, stopped.id))?.skipReason).toBe('opted_out');
      expect((await getMessage(db0, noConsent.id))?.skipReason).toBe('no_consent');
      expect(new Set(calls)).toEqual(new Set(ok.map((q) => q.id)));
      // A claim, a guard read and a mark each would be 66 statements; the two skips mark alone.
      expect(count()).toBeLessThanOrEqual(14);
    });
  });
}
