import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Effects } from '../../../src/runner/effects.js';
import { listAuditEvents, listConsentEvents } from '../../../src/store/repos/audit.js';
import { getMessage, insertOutbound } from '../../../src/store/repos/messages.js';
import { createParticipant, getParticipantById } from '../../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../../store/drivers.js';
import { counting } from '../../support/counting-db.js';
import { notices } from '../../support/guarded.js';
import { capturedLogger } from '../../support/log-capture.js';
import { ACCOUNT_SID, newSid, OUR_NUMBER, PUBLIC_URL, smsApp } from './support.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('POST /sms/status (checklist 39-41)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  const { logger } = capturedLogger('trace');
  const sunk: Effects[] = [];
  let t: ReturnType<typeof smsApp>;
  beforeAll(() => {
    t = smsApp(getDb(), logger, { sink: async (e) => void sunk.push(e) });
  });
  afterAll(async () => t.app.close());

  async function outbound(kind = 'conversation', status: 'sending' | 'sent' = 'sending') {
    const phone = uniquePhone();
    const p = await createParticipant(getDb(), { phone });
    const { message } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: p.id,
      address: phone,
      body: 'See you tomorrow at 10:00.',
      kind,
    });
    await getDb().query('UPDATE messages SET status = $2 WHERE id = $1', [message.id, status]);
    return { participant: p, phone, id: message.id, sid: newSid() };
  }

  const callback = (
    m: { id: string; sid: string; phone: string },
    status: string,
    errorCode?: number,
    query = `?m=${m.id}`,
  ) =>
    t.post(`/sms/status${query}`, {
      SmsSid: m.sid,
      SmsStatus: status,
      MessageStatus: status,
      To: m.phone,
      MessageSid: m.sid,
      AccountSid: ACCOUNT_SID,
      From: OUR_NUMBER,
      ApiVersion: '2010-04-01',
      ...(errorCode !== undefined ? { ErrorCode: String(errorCode) } : {}),
    });

  it('39: queued -> sent -> delivered in order: stored, linked by ?m= before the sid was saved', async () => {
    const m = await outbound();
    for (const s of ['queued', 'sent', 'delivered'])
      expect((await callback(m, s)).statusCode).toBe(204);
    const row = await getMessage(getDb(), m.id);
    expect(row).toMatchObject({ status: 'delivered', providerSid: m.sid });
    expect(row?.sentAt).not.toBeNull();
  });

  it('40: out of order and duplicated: delivered stays delivered', async () => {
    const m = await outbound();
    await callback(m, 'delivered');
    await callback(m, 'sent');
    await callback(m, 'queued');
    await callback(m, 'delivered');
    expect(await getMessage(getDb(), m.id)).toMatchObject({ status: 'delivered' });
  });

  it('40: concurrent duplicates are harmless', async () => {
    const m = await outbound();
    const all = await Promise.all(
      ['sent', 'delivered', 'delivered', 'sent', 'delivered'].map((s) => callback(m, s)),
    );
    expect(all.every((r) => r.statusCode === 204)).toBe(true);
    expect(await getMessage(getDb(), m.id)).toMatchObject({ status: 'delivered' });
  });

  it('40: a burst of callbacks is group-committed: each message ends at its last status, a failure acted on once', async () => {
    const counted = counting(getDb());
    const burst = smsApp(counted.db, logger, { sink: async (e) => void sunk.push(e) });
    try {
      const ms = await Promise.all(Array.from({ length: 40 }, () => outbound()));
      const failing = await outbound('reminder');
      type M = Awaited<ReturnType<typeof outbound>>;
      const calls: [M, string, number?][] = [
        ...ms.flatMap((m): [M, string][] => [
          [m, 'queued'],
          [m, 'delivered'],
          [m, 'sent'],
          [m, 'delivered'],
        ]),
        [failing, 'sent'],
        [failing, 'undelivered', 30005],
        [failing, 'undelivered', 30005],
      ];
      const before = counted.count();
      const answers = await Promise.all(
        calls.map(([m, s, code]) =>
          burst.post(`/sms/status?m=${m.id}`, {
            MessageSid: m.sid,
            MessageStatus: s,
            AccountSid: ACCOUNT_SID,
            To: m.phone,
            From: OUR_NUMBER,
            ...(code ? { ErrorCode: String(code) } : {}),
          }),
        ),
      );
      expect(answers.every((a) => a.statusCode === 204)).toBe(true);
      // Two round trips each before (163 callbacks: 326); batches of up to 200 now, plus the
      // one failure's own work.
      expect(counted.count() - before).toBeLessThan(40);
      for (const m of ms)
        expect(await getMessage(getDb(), m.id)).toMatchObject({
          status: 'delivered',
          providerSid: m.sid,
        });
      expect(await getMessage(getDb(), failing.id)).toMatchObject({
        status: 'undelivered',
        errorCode: '30005',
      });
      const reported = (await listAuditEvents(getDb(), failing.participant.id)).filter(
        (e) => e.kind === 'reminder_undelivered',
      );
      expect(reported).toHaveLength(1);
    } finally {
      await burst.app.close();
    }
  });

  it('40: without our id the callback is linked by MessageSid', async () => {
    const m = await outbound('conversation', 'sent');
    await getDb().query('UPDATE messages SET provider_sid = $2 WHERE id = $1', [m.id, m.sid]);
    expect((await callback(m, 'delivered', undefined, '')).statusCode).toBe(204);
    expect(await getMessage(getDb(), m.id)).toMatchObject({ status: 'delivered' });
  });

  it('40: the query string is signed: a callback moved to another message id is refused (403)', async () => {
    const m = await outbound();
    const other = await outbound();
    const params = {
      MessageSid: m.sid,
      MessageStatus: 'delivered',
      AccountSid: ACCOUNT_SID,
      To: m.phone,
      From: OUR_NUMBER,
    };
    const moved = await t.post(`/sms/status?m=${other.id}`, params, {
      signUrl: `${PUBLIC_URL}/sms/status?m=${m.id}`,
    });
    expect(moved.statusCode).toBe(403);
    expect(await getMessage(getDb(), other.id)).toMatchObject({ status: 'sending' });
    expect((await t.post(`/sms/status?m=${m.id}`, params)).statusCode).toBe(204);
    expect(await getMessage(getDb(), m.id)).toMatchObject({ status: 'delivered' });
  });

  it('an unknown status is a 400 with field errors', async () => {
    const m = await outbound();
    const res = await callback(m, 'exploded');
    expect(res.statusCode).toBe(400);
    expect(await getMessage(getDb(), m.id)).toMatchObject({ status: 'sending' });
  });

  it('41: an undelivered reminder is recorded for the link worker (once), with its error code', async () => {
    const m = await outbound('reminder');
    await callback(m, 'sent');
    await callback(m, 'undelivered', 30003);
    await callback(m, 'undelivered', 30003);
    expect(await getMessage(getDb(), m.id)).toMatchObject({
      status: 'undelivered',
      errorCode: '30003',
    });
    const audit = (await listAuditEvents(getDb(), m.participant.id)).filter(
      (e) => e.kind === 'reminder_undelivered',
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.detail).toMatchObject({ messageId: m.id, code: 30003, redeliver: true });
  });

  it('a second Twilio message for one row (a late original after a resend) is reported once', async () => {
    const m = await outbound('reminder');
    for (const s of ['sent', 'delivered']) await callback(m, s);
    const late = { ...m, sid: newSid() };
    for (const s of ['queued', 'sent', 'delivered'])
      expect((await callback(late, s)).statusCode).toBe(204);
    // The row keeps the sid it was sent with; the extra one is on record, once.
    expect(await getMessage(getDb(), m.id)).toMatchObject({
      status: 'delivered',
      providerSid: m.sid,
    });
    const twice = (await listAuditEvents(getDb(), m.participant.id)).filter(
      (e) => e.kind === 'sms_sent_twice',
    );
    expect(twice.map((e) => e.detail)).toEqual([{ messageId: m.id, sid: late.sid }]);
    // ...and the link worker is told once, in Slack (the notice's sweep posts it).
    expect(await notices(getDb(), m.participant.id)).toEqual(['sms_sent_twice']);
    // A row's own callbacks, repeated, are not a second message.
    const once = await outbound();
    for (const s of ['sent', 'sent', 'delivered']) await callback(once, s);
    expect(
      (await listAuditEvents(getDb(), once.participant.id)).some(
        (e) => e.kind === 'sms_sent_twice',
      ),
    ).toBe(false);
  });

  it('a failed conversation message is not reported as a reminder', async () => {
    const m = await outbound('conversation');
    await callback(m, 'failed', 30008);
    const audit = await listAuditEvents(getDb(), m.participant.id);
    expect(audit.filter((e) => e.kind === 'reminder_undelivered')).toEqual([]);
  });

  it('29: failed with 21610 opts the participant out, cancels their timers, tells the link worker', async () => {
    const m = await outbound('reminder');
    const { item } = await upsertScheduledItem(getDb(), {
      kind: 'checkin',
      participantId: m.participant.id,
      dueAt: new Date(Date.now() + 86_400_000),
    });
    expect((await callback(m, 'failed', 21610)).statusCode).toBe(204);
    const p = await getParticipantById(getDb(), m.participant.id);
    expect(p?.optedOut).toBe(true);
    const consent = await listConsentEvents(getDb(), m.participant.id);
    expect(consent.map((e) => [e.kind, e.actor])).toEqual([['opted_out', 'carrier']]);
    const { rows } = await getDb().query<{ state: string }>(
      'SELECT state FROM scheduled_items WHERE id = $1',
      [item.id],
    );
    expect(rows[0]?.state).toBe('cancelled');
    const handoffs = await getDb().query<{ reason: string }>(
      'SELECT reason FROM handoffs WHERE participant_id = $1',
      [m.participant.id],
    );
    expect(handoffs.rows.map((r) => r.reason)).toEqual(['opted_out']);
    expect(sunk.some((e) => e.cancelledJobs.some((j) => j.jobId === item.jobId))).toBe(true);
  });

  it('38: undelivered with 30006 flags the number as a landline and tells the link worker', async () => {
    const m = await outbound('conversation');
    await callback(m, 'undelivered', 30006);
    expect((await getParticipantById(getDb(), m.participant.id))?.numberStatus).toBe('landline');
    expect(await notices(getDb(), m.participant.id)).toEqual(['landline']);
  });
});
