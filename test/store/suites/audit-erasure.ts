import { describe, expect, it } from 'vitest';
import type { Db } from '../../../src/store/db.js';
import type { ReferralRoute } from '../../../src/store/enums.js';
import { insertAnswer, listAnswers } from '../../../src/store/repos/answers.js';
import { appendAudit, appendConsentEvent } from '../../../src/store/repos/audit.js';
import { eraseParticipant } from '../../../src/store/repos/erasure.js';
import { insertInbound } from '../../../src/store/repos/messages.js';
import {
  createParticipant,
  getParticipantById,
  setOptOut,
} from '../../../src/store/repos/participants.js';
import { uniquePhone } from '../drivers.js';

async function referred(db: Db, route: ReferralRoute) {
  const p = await createParticipant(db, {
    phone: uniquePhone(),
    firstName: 'Sam',
    postcodePart: 'M16',
    referralRoute: route,
  });
  await db.query('INSERT INTO referrals (participant_id, route) VALUES ($1, $2)', [p.id, route]);
  return p;
}

async function countsByRoute(db: Db): Promise<Record<string, number>> {
  const { rows } = await db.query<{ route: string; n: number }>(
    `SELECT r.route, count(*) AS n FROM referrals r JOIN participants p ON p.id = r.participant_id
     GROUP BY r.route ORDER BY r.route`,
  );
  return Object.fromEntries(rows.map((r) => [r.route, r.n]));
}

export function auditErasureSuite(getDb: () => Db): void {
  describe('append-only logs', () => {
    it.each(['audit_events', 'consent_events'])(
      '%s refuses UPDATE, DELETE and TRUNCATE',
      async (table) => {
        const db = getDb();
        const p = await createParticipant(db, { phone: uniquePhone() });
        await appendAudit(db, { participantId: p.id, kind: 'test.event', actor: 'system' });
        await appendConsentEvent(db, {
          participantId: p.id,
          kind: 'opted_out',
          actor: 'participant',
        });
        for (const sql of [
          `UPDATE ${table} SET actor = 'someone else'`,
          `DELETE FROM ${table}`,
          `TRUNCATE ${table}`,
        ]) {
          await expect(db.query(sql)).rejects.toThrow(/append-only/);
        }
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*) AS n FROM ${table} WHERE participant_id = $1`,
          [p.id],
        );
        expect(rows[0]?.n).toBe(1);
      },
    );
  });

  describe('erasure', () => {
    it('nulls the PII and keeps counts by referral route right', async () => {
      const db = getDb();
      const a = await referred(db, 'gp_primary_care');
      await referred(db, 'gp_primary_care');
      await referred(db, 'self');
      const before = await countsByRoute(db);
      await insertInbound(db, {
        channel: 'sms',
        providerSid: `SM-erase-${a.id}`,
        participantId: a.id,
        address: a.phone,
        body: 'my story',
      });
      await insertAnswer(db, {
        participantId: a.id,
        question: 'ons4_happy',
        value: '7',
        score: 7,
        collectedVia: 'sms',
      });
      await setOptOut(db, a.id, true, { actor: 'participant' });
      const result = await eraseParticipant(db, a.id, 'admin:dpo');
      expect(result.erased).toBe(true);
      expect(await countsByRoute(db)).toEqual(before);
      const tombstone = await getParticipantById(db, a.id);
      expect(tombstone).toMatchObject({
        phone: null,
        firstName: null,
        postcodePart: null,
        referralRoute: 'gp_primary_care',
      });
      expect(tombstone?.erasedAt).toBeInstanceOf(Date);
      const { rows } = await db.query(
        'SELECT body, address FROM messages WHERE participant_id = $1',
        [a.id],
      );
      expect(rows).toEqual([{ body: null, address: null }]);
      expect(await listAnswers(db, a.id)).toMatchObject([{ value: null, score: 7 }]);
      const suppressed = await db.query('SELECT reason FROM suppressions WHERE phone = $1', [
        a.phone,
      ]);
      expect(suppressed.rows).toEqual([{ reason: 'opted_out' }]);
      expect((await eraseParticipant(db, a.id, 'admin:dpo')).erased).toBe(false);
    });

    it('lets the same phone enrol again after erasure', async () => {
      const db = getDb();
      const first = await referred(db, 'housing');
      await eraseParticipant(db, first.id, 'admin:dpo');
      const again = await createParticipant(db, { phone: first.phone });
      expect(again.id).not.toBe(first.id);
    });
  });
}
