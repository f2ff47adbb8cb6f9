import { DateTime } from 'luxon';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { noEffects } from '../../src/runner/effects.js';
import { REDELIVERY_DELAY_MS, redeliver } from '../../src/runner/redelivery.js';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { insertOutbound } from '../../src/store/repos/messages.js';
import {
  createParticipant,
  getParticipantById,
  setConsent,
} from '../../src/store/repos/participants.js';
import type { ScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { ACCOUNT_SID, newSid, OUR_NUMBER, smsApp } from '../http/sms/support.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { notices } from '../support/guarded.js';
import { capturedLogger } from '../support/log-capture.js';

const pg = drivers.find((d) => d.name === 'pg')!;
const ZONE = 'Europe/London';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE }).toJSDate();

describe('an undelivered reminder (checklist 41)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger } = capturedLogger('info');
  let clock = at('2027-03-09T11:00');
  let t: ReturnType<typeof smsApp>;
  beforeAll(() => {
    t = smsApp(getDb(), logger, { now: () => clock });
  });
  afterAll(async () => t.app.close());

  /** A consenting participant, a session at `startsAt`, and its reminder, sent. */
  async function sentReminder(startsAt: Date) {
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), { phone });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    const { rows } = await getDb().query<{ id: string }>(
      `WITH a AS (INSERT INTO activities (name, location) VALUES ('Walk', 'the Park') RETURNING id)
       INSERT INTO sessions (activity_id, starts_at, ends_at) SELECT id, $1, $1::timestamptz + interval '1 hour' FROM a RETURNING id`,
      [startsAt],
    );
    const conv = await getDb().query<{ id: string }>(
      `INSERT INTO conversation_sessions (participant_id, flow_id, state)
       VALUES ($1, 'reminder_day_before', $2::jsonb) RETURNING id`,
      [who.id, JSON.stringify({ context: { session: { id: rows[0]!.id } } })],
    );
    const { message } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: who.id,
      conversationSessionId: conv.rows[0]!.id,
      address: phone,
      body: 'Reminder: Walk is tomorrow at 10:00, the Park.',
      templateKey: 'reminder.day_before',
      kind: 'reminder',
    });
    const sid = newSid();
    await getDb().query("UPDATE messages SET status = 'sent', provider_sid = $2 WHERE id = $1", [
      message.id,
      sid,
    ]);
    return { phone, who, id: message.id, sid };
  }

  const fail = (m: { id: string; sid: string; phone: string }, status: string, code: number) =>
    t.post(`/sms/status?m=${m.id}`, {
      MessageSid: m.sid,
      SmsSid: m.sid,
      MessageStatus: status,
      SmsStatus: status,
      AccountSid: ACCOUNT_SID,
      To: m.phone,
      From: OUR_NUMBER,
      ErrorCode: String(code),
    });

  const retries = async (participantId: string) =>
    (
      await getDb().query<ScheduledItem>(
        `SELECT id, kind, version, due_at AS "dueAt", payload, participant_id AS "participantId"
         FROM scheduled_items WHERE participant_id = $1 AND kind = 'send_retry'`,
        [participantId],
      )
    ).rows;

  it('30003: one re-send about an hour later; it goes as a new message; the link worker is told', async () => {
    clock = at('2027-03-09T11:00');
    const m = await sentReminder(at('2027-03-10T10:00'));
    expect((await fail(m, 'undelivered', 30003)).statusCode).toBe(204);
    const planned = await retries(m.who.id);
    expect(planned).toHaveLength(1);
    expect(planned[0]!.dueAt.getTime()).toBe(clock.getTime() + REDELIVERY_DELAY_MS);
    expect(await notices(getDb(), m.who.id)).toEqual(['reminder_not_delivered']);
    // The timer fires: the same text goes again, once, as its own message.
    const effects = noEffects();
    const p = (await getParticipantById(getDb(), m.who.id))!;
    const fire = () =>
      getDb().transaction((tx) =>
        redeliver(tx, p, planned[0]!, effects, new Date(clock.getTime() + REDELIVERY_DELAY_MS)),
      );
    expect(await fire()).toBeUndefined();
    expect(await fire()).toBe('already_resent');
    expect(effects.sends).toHaveLength(1);
    const resent = await getDb().query<{ body: string; kind: string; dedupe_key: string }>(
      'SELECT body, kind, dedupe_key FROM messages WHERE id = $1',
      [effects.sends[0]!.id],
    );
    expect(resent.rows[0]).toEqual({
      body: 'Reminder: Walk is tomorrow at 10:00, the Park.',
      kind: 'reminder',
      dedupe_key: `resend-${m.id}`,
    });
    // The re-send fails the same way: no second re-send.
    const again = { ...m, id: effects.sends[0]!.id, sid: newSid() };
    await getDb().query("UPDATE messages SET status = 'sent', provider_sid = $2 WHERE id = $1", [
      again.id,
      again.sid,
    ]);
    await fail(again, 'undelivered', 30008);
    expect(await retries(m.who.id)).toHaveLength(1);
    const audit = (await listAuditEvents(getDb(), m.who.id)).filter(
      (e) => e.kind === 'reminder_undelivered',
    );
    expect(audit.map((e) => e.detail.redelivery)).toEqual(['planned', 'already_resent']);
  });

  it.each([
    [30005, ['fix_number', 'reminder_not_delivered']],
    [30007, ['reminder_not_delivered']],
  ])('%i: no re-send, but the link worker is told', async (code, told) => {
    clock = at('2027-03-09T11:00');
    const m = await sentReminder(at('2027-03-10T10:00'));
    await fail(m, 'undelivered', code);
    expect(await retries(m.who.id)).toEqual([]);
    // 30005 (unknown handset) also flags the number for fixing.
    expect(await notices(getDb(), m.who.id)).toEqual(told);
  });

  it('failed with 30008 also gets one re-send', async () => {
    clock = at('2027-03-09T11:00');
    const m = await sentReminder(at('2027-03-10T10:00'));
    await fail(m, 'failed', 30008);
    expect(await retries(m.who.id)).toHaveLength(1);
  });

  it('no re-send when an hour from now is already past the session', async () => {
    clock = at('2027-03-10T09:30');
    const m = await sentReminder(at('2027-03-10T10:00'));
    await fail(m, 'undelivered', 30003);
    expect(await retries(m.who.id)).toEqual([]);
    expect(await notices(getDb(), m.who.id)).toEqual(['reminder_not_delivered']);
  });

  it('an hour from now falls in quiet hours: moved to their end, if still before the session', async () => {
    clock = at('2027-03-09T19:30');
    const ok = await sentReminder(at('2027-03-10T14:00'));
    await fail(ok, 'undelivered', 30003);
    const planned = await retries(ok.who.id);
    expect(planned.map((i) => i.dueAt.getTime())).toEqual([at('2027-03-10T09:00').getTime()]);
    const early = await sentReminder(at('2027-03-10T08:30'));
    await fail(early, 'undelivered', 30003);
    expect(await retries(early.who.id)).toEqual([]);
  });

  it('when the timer fires in quiet hours or after the session starts, nothing is sent', async () => {
    clock = at('2027-03-09T11:00');
    const m = await sentReminder(at('2027-03-10T10:00'));
    await fail(m, 'undelivered', 30003);
    const [item] = await retries(m.who.id);
    const p = (await getParticipantById(getDb(), m.who.id))!;
    const effects = noEffects();
    const fireAt = (iso: string) =>
      getDb().transaction((tx) => redeliver(tx, p, item!, effects, at(iso)));
    expect(await fireAt('2027-03-09T22:00')).toBe('quiet_hours');
    expect(await fireAt('2027-03-10T10:05')).toBe('too_late');
    expect(effects.sends).toEqual([]);
  });
});
