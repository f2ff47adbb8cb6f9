import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import {
  AGE_BANDS,
  BEST_TIMES,
  DIGITAL_ACCESS,
  ETHNICITIES,
  GENDERS,
  NUMBER_STATUSES,
  PRIMARY_REASONS,
  REFERRAL_ROUTES,
  YES_NO,
} from '../../../src/store/enums.js';
import { listConsentEvents } from '../../../src/store/repos/audit.js';
import {
  createParticipant,
  getParticipantById,
  getParticipantByPhone,
  getParticipantByRef,
  setConsent,
  setOptOut,
  updateFields,
  updateParticipant,
} from '../../../src/store/repos/participants.js';
import { uniquePhone } from '../drivers.js';

export function participantsSuite(getDb: () => Db): void {
  describe('participants', () => {
    it('creates with a short ref and sensible defaults, found by phone, id and ref', async () => {
      const db = getDb();
      const phone = uniquePhone();
      const p = await createParticipant(db, { phone, firstName: 'Ada', preferredLang: 'cy' });
      expect(p.ref).toMatch(/^P-[2-9A-HJ-NP-Z]{4}$/);
      expect(p).toMatchObject({
        phone,
        tz: 'Europe/London',
        quietStart: '20:00:00',
        quietEnd: '09:00:00',
        consent: 'none',
        optedOut: false,
        numberStatus: 'ok',
        fields: {},
        tags: [],
        communicationNeeds: [],
        erasedAt: null,
      });
      expect(p.createdAt).toBeInstanceOf(Date);
      expect((await getParticipantByPhone(db, phone))?.id).toBe(p.id);
      expect((await getParticipantById(db, p.id))?.ref).toBe(p.ref);
      expect((await getParticipantByRef(db, p.ref))?.id).toBe(p.id);
      expect(await getParticipantByPhone(db, uniquePhone())).toBeNull();
    });

    it('refuses a second participant with the same phone', async () => {
      const db = getDb();
      const phone = uniquePhone();
      await createParticipant(db, { phone });
      await expect(createParticipant(db, { phone })).rejects.toMatchObject({
        code: '23505',
        constraint: 'participants_phone_key',
      });
    });

    it('refuses a phone that is not E.164', async () => {
      await expect(createParticipant(getDb(), { phone: '07700900123' })).rejects.toMatchObject({
        code: '23514',
      });
    });

    it('merges flow fields and updates profile columns', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone(), fields: { a: 1 } });
      await updateFields(db, p.id, { b: 'two' });
      const updated = await updateParticipant(db, p.id, {
        ageBand: '70_79',
        communicationNeeds: ['large_print'],
        tags: ['walking'],
        complexityTier: 2,
      });
      expect(updated).toMatchObject({
        fields: { a: 1, b: 'two' },
        ageBand: '70_79',
        communicationNeeds: ['large_print'],
        tags: ['walking'],
        complexityTier: 2,
      });
      expect(updated!.updatedAt.getTime()).toBeGreaterThanOrEqual(p.updatedAt.getTime());
    });

    it('accepts every profile value the code knows', async () => {
      const db = getDb();
      const pick = <T>(list: readonly T[], i: number): T => list[i % list.length]!;
      for (let i = 0; i < PRIMARY_REASONS.length; i += 1) {
        await createParticipant(db, {
          ageBand: pick(AGE_BANDS, i),
          gender: pick(GENDERS, i),
          ethnicity: pick(ETHNICITIES, i),
          ltc: pick(YES_NO, i),
          mhNeed: pick(YES_NO, i + 1),
          referralRoute: pick(REFERRAL_ROUTES, i),
          primaryReason: pick(PRIMARY_REASONS, i),
          digitalAccess: pick(DIGITAL_ACCESS, i),
          bestTime: pick(BEST_TIMES, i),
          numberStatus: pick(NUMBER_STATUSES, i),
        });
      }
    });

    it('opts out and writes the consent event in the same transaction', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const detail = { keyword: 'STOP' };
      expect(await setOptOut(db, p.id, true, { actor: 'participant', detail })).toEqual({
        changed: true,
      });
      const after = await getParticipantById(db, p.id);
      const events = await listConsentEvents(db, p.id);
      expect(after?.optedOut).toBe(true);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ kind: 'opted_out', actor: 'participant', detail });
      // now() is the transaction's start time: equal instants mean one transaction.
      expect(events[0]?.at.getTime()).toBe(after?.optedOutAt?.getTime());
      expect(await setOptOut(db, p.id, true, { actor: 'participant' })).toEqual({ changed: false });
      expect(await listConsentEvents(db, p.id)).toHaveLength(1);
    });

    it('rolls back the opt-out with its consent event', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      const attempt = db.transaction(async (tx) => {
        await setOptOut(tx, p.id, true, { actor: 'participant' });
        throw new Error('crash after opt-out');
      });
      await expect(attempt).rejects.toThrow('crash after opt-out');
      expect((await getParticipantById(db, p.id))?.optedOut).toBe(false);
      expect(await listConsentEvents(db, p.id)).toEqual([]);
    });

    it('records opt-in and consent changes as events', async () => {
      const db = getDb();
      const p = await createParticipant(db, { phone: uniquePhone() });
      await setConsent(db, p.id, 'given', { actor: 'participant' });
      await setOptOut(db, p.id, true, { actor: 'carrier', detail: { errorCode: '21610' } });
      await setOptOut(db, p.id, false, { actor: 'participant', detail: { keyword: 'START' } });
      const events = await listConsentEvents(db, p.id);
      expect(events.map((e) => e.kind)).toEqual(['consent_given', 'opted_out', 'opted_in']);
      expect(await getParticipantById(db, p.id)).toMatchObject({
        consent: 'given',
        optedOut: false,
        optedOutAt: null,
      });
    });
  });
}
