import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSink } from '../../../src/scheduler/sink.js';
import { listAuditEvents } from '../../../src/store/repos/audit.js';
import { getMessage, insertOutbound } from '../../../src/store/repos/messages.js';
import { createParticipant, setConsent } from '../../../src/store/repos/participants.js';
import { notices } from '../../support/guarded.js';
import { waitFor } from '../../support/pipeline.js';
import { type RunningService, startService } from '../../support/sandbox-server.js';

/** The local Twilio's magic number whose sends end `failed` with 30036 (validity expired). */
const EXPIRES = '+447700900936';

/**
 * Checklist 42, expired sends: a send Twilio could not get out within its ValidityPeriod
 * comes back `failed` with 30036. The composed service (sandbox mode: the in-process local
 * Twilio sends the signed callback to the real /sms/status) records it with its reason,
 * counts it in /metrics and, for a reminder, tells the link worker it expired.
 */
describe('sends that expired at the carrier (30036)', () => {
  let s: RunningService;
  beforeAll(async () => {
    s = await startService();
  }, 60_000);
  afterAll(async () => s?.stop());

  const expiredMetric = async () => {
    const body = await (await fetch(`${s.url}/metrics`)).text();
    const counts: Record<string, number> = {};
    for (const m of body.matchAll(/^linkline_sms_expired_total\{kind="([a-z_]+)"\} (\d+)$/gm))
      counts[m[1]!] = Number(m[2]);
    return counts;
  };

  async function sendReminder(phone: string) {
    const db = s.service.db;
    const who = await createParticipant(db, { phone });
    await setConsent(db, who.id, 'given', { actor: 'admin:test' });
    const { message } = await insertOutbound(db, {
      channel: 'sms',
      participantId: who.id,
      address: phone,
      body: 'Reminder: Walk is tomorrow at 10:00.',
      templateKey: 'reminder.day_before',
      kind: 'reminder',
    });
    await createSink(
      db,
      s.service.queues,
      s.logs.logger,
    )({ sends: [{ id: message.id, priority: 0 }], items: [], cancelledJobs: [], handoffs: [] });
    return { who, id: message.id };
  }

  it('42: a reminder that expired: failed with 30036, recorded with the reason, counted, the link worker told', async () => {
    expect(await expiredMetric()).toEqual({});
    const { who, id } = await sendReminder(EXPIRES);
    // The fake accepts the send, then posts the signed failed/30036 callback.
    await waitFor(async () => (await getMessage(s.service.db, id))?.status === 'failed');
    expect(await getMessage(s.service.db, id)).toMatchObject({
      status: 'failed',
      errorCode: '30036',
    });
    const fakeSide = s.service.twilioFake!.messages().filter((m) => m.to === EXPIRES);
    expect(fakeSide).toHaveLength(1);
    expect(fakeSide[0]).toMatchObject({ status: 'failed', errorCode: 30036 });
    expect(fakeSide[0]!.validityPeriod).toBeGreaterThan(0);
    await waitFor(async () => (await notices(s.service.db, who.id)).length > 0);
    expect(await notices(s.service.db, who.id)).toEqual(['reminder_expired']);
    const expired = (await listAuditEvents(s.service.db, who.id)).filter(
      (e) => e.kind === 'send_expired',
    );
    expect(expired.map((e) => e.detail)).toEqual([
      { messageId: id, messageKind: 'reminder', code: 30036, reason: 'validity_period_expired' },
    ]);
    expect(await expiredMetric()).toEqual({ reminder: 1 });
    // The callback again (Twilio retries): nothing more is recorded or counted.
    await s.service.twilioFake!.emitStatus(fakeSide[0]!.sid, 'failed', 30036);
    expect(await notices(s.service.db, who.id)).toEqual(['reminder_expired']);
    expect(
      (await listAuditEvents(s.service.db, who.id)).filter((e) => e.kind === 'send_expired'),
    ).toHaveLength(1);
    expect(await expiredMetric()).toEqual({ reminder: 1 });
  });
});
