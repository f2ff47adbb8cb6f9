import { describe, expect, it } from 'vitest';
import {
  type SendOutcome,
  type SmsGateway,
  sendOutbound,
  WaitTurn,
} from '../../src/runner/outbound.js';
import { getMessage, insertOutbound } from '../../src/store/repos/messages.js';
import { createParticipant } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { useLogWatch } from '../support/pipeline.js';

/** A provider whose sends stay in flight until the test lets them go. */
function slowProvider() {
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
  return { gateway, sent, release: (o: SendOutcome) => release(o) };
}

for (const driver of drivers) {
  describe(`a send is leased to one worker (${driver.name})`, () => {
    const getDb = useTestDb(driver, { migrated: true });
    // Checklist 90: what the code under test logs, at trace, is leak-checked after each test.
    const logs = useLogWatch(getDb);

    async function queued() {
      const db = getDb();
      const who = await createParticipant(db, { phone: uniquePhone() });
      const { message } = await insertOutbound(db, {
        channel: 'sms',
        participantId: who.id,
        address: who.phone,
        body: 'Reminder',
        kind: 'reminder',
      });
      return message.id;
    }

    it('a second run of a message another worker is sending waits instead of sending again', async () => {
      const db = getDb();
      const id = await queued();
      const p = slowProvider();
      // Worker A claims the message and is inside the provider call.
      const a = sendOutbound(db, p.gateway, id, logs.logger);
      await expect.poll(() => p.sent.length).toBe(1);
      // Worker B runs the same message (a duplicate job after Redis lost the first one).
      const b = await sendOutbound(db, p.gateway, id, logs.logger).catch((e: unknown) => e);
      expect(b).toBeInstanceOf(WaitTurn);
      expect((b as WaitTurn).delayMs).toBeGreaterThan(1_000);
      expect(p.sent).toHaveLength(1);
      p.release({ kind: 'sent', sid: 'SM1' });
      expect(await a).toBe('sent');
      // B's retry finds it sent and does nothing.
      expect(await sendOutbound(db, p.gateway, id, logs.logger)).toBe('done');
      expect(p.sent).toHaveLength(1);
    });

    it('after an ambiguous failure the lease is released: the retry reconciles at once', async () => {
      const db = getDb();
      const id = await queued();
      const p = slowProvider();
      const a = sendOutbound(db, p.gateway, id, logs.logger).catch((e: unknown) => e);
      await expect.poll(() => p.sent.length).toBe(1);
      p.release({ kind: 'ambiguous' });
      await a;
      expect((await getMessage(db, id))?.status).toBe('sending');
      let reconciled = 0;
      const found: SmsGateway = {
        send: async () => {
          throw new Error('must not send again');
        },
        reconcile: async () => {
          reconciled += 1;
          return { sid: 'SM2' };
        },
      };
      expect(await sendOutbound(db, found, id, logs.logger)).toBe('reconciled');
      expect(reconciled).toBe(1);
      expect((await getMessage(db, id))?.status).toBe('sent');
    });
  });
}
