import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { listAuditEvents } from '../../src/store/repos/audit.js';
import { loadActiveSession } from '../../src/store/repos/conversation-sessions.js';
import { insertOutbound } from '../../src/store/repos/messages.js';
import {
  createParticipant,
  getParticipantById,
  setConsent,
} from '../../src/store/repos/participants.js';
import { upsertScheduledItem } from '../../src/store/repos/scheduled-items.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type GuardedPipeline, notices, startGuardedPipeline } from '../support/guarded.js';
import { waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('permanent refusals and exhausted retries at send time (checklist 29, 36, 37, 38)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: GuardedPipeline;
  beforeAll(async () => {
    p = await startGuardedPipeline(getDb());
  });
  afterAll(async () => p.close());

  async function consenting() {
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), { phone });
    await setConsent(getDb(), who.id, 'given', { actor: 'admin:test' });
    return { phone, who };
  }

  it('29: 21610 at send: no retry, opted out, conversation ended, every timer cancelled, link worker told, not a failure', async () => {
    const phone = uniquePhone();
    // A conversation going on: the intake, waiting for consent, with its timers.
    const r = await acceptInbound(getDb(), {
      sid: `SM${randomBytes(16).toString('hex')}`,
      from: phone,
      body: 'hello',
      numMedia: 0,
      segments: 1,
    });
    await p.queues.inbound.add(
      'inbound',
      { messageId: r.messageId },
      { jobId: `in-${r.messageId}` },
    );
    await waitFor(() => p.provider.accepted.some((a) => a.to === phone));
    const who = (
      await getDb().query<{ id: string }>('SELECT id FROM participants WHERE phone = $1', [phone])
    ).rows[0]!;
    expect(await loadActiveSession(getDb(), who.id)).not.toBeNull();
    await upsertScheduledItem(getDb(), {
      kind: 'followup',
      participantId: who.id,
      dueAt: new Date(Date.now() + 5 * 86_400_000),
    });
    p.provider.script.push({ kind: 'permanent', code: '21610', reason: 'opted_out' });
    const calls = p.provider.calls;
    const id = await p.queueMessage(who.id, phone, { kind: 'conversation' });
    const done = await p.finished(id);
    expect(done.state).toBe('completed');
    expect(p.provider.calls).toBe(calls + 1);
    expect(done.message).toMatchObject({ status: 'failed', error_code: '21610' });
    expect((await getParticipantById(getDb(), who.id))?.optedOut).toBe(true);
    expect(await loadActiveSession(getDb(), who.id)).toBeNull();
    const live = await getDb().query(
      "SELECT 1 FROM scheduled_items WHERE participant_id = $1 AND state IN ('pending', 'enqueued')",
      [who.id],
    );
    expect(live.rowCount).toBe(0);
    expect(await notices(getDb(), who.id)).toEqual(['opted_out_by_carrier']);
    const handoff = await getDb().query(
      "SELECT reason FROM handoffs WHERE participant_id = $1 AND status = 'open'",
      [who.id],
    );
    expect(handoff.rows).toEqual([{ reason: 'opted_out' }]);
  });

  it('37: 21211 invalid To: failed at once, number flagged for fixing, link worker told once', async () => {
    const { phone, who } = await consenting();
    p.provider.script.push(
      { kind: 'permanent', code: '21211', reason: 'invalid_number' },
      { kind: 'permanent', code: '21211', reason: 'invalid_number' },
    );
    const calls = p.provider.calls;
    const first = await p.finished(await p.queueMessage(who.id, phone));
    const second = await p.finished(await p.queueMessage(who.id, phone));
    expect([first.state, second.state]).toEqual(['completed', 'completed']);
    expect(p.provider.calls).toBe(calls + 2);
    expect(first.message).toMatchObject({ status: 'failed', error_code: '21211' });
    expect((await getParticipantById(getDb(), who.id))?.numberStatus).toBe('invalid');
    expect(await notices(getDb(), who.id)).toEqual(['fix_number']);
  });

  it.each([
    ['21614', 'landline'],
    ['21635', 'landline'],
    ['landline', 'landline'],
  ] as const)('38: %s: no retry, flagged as a landline, link worker told', async (code, reason) => {
    const { phone, who } = await consenting();
    p.provider.script.push({ kind: 'permanent', code, reason });
    const calls = p.provider.calls;
    const done = await p.finished(await p.queueMessage(who.id, phone));
    expect(done.state).toBe('completed');
    expect(p.provider.calls).toBe(calls + 1);
    expect(done.message).toMatchObject({ status: 'failed', error_code: code });
    expect((await getParticipantById(getDb(), who.id))?.numberStatus).toBe('landline');
    expect(await notices(getDb(), who.id)).toEqual(['landline']);
  });

  it('36: 5xx on every attempt: N attempts, then failed, send_failed recorded, link worker told', async () => {
    const { phone, who } = await consenting();
    p.provider.always = { kind: 'retryable', code: '20500' };
    try {
      const { message } = await insertOutbound(getDb(), {
        channel: 'sms',
        participantId: who.id,
        address: phone,
        body: 'See you tomorrow at 10:00.',
        kind: 'reminder',
      });
      const calls = p.provider.calls;
      // The queue's own retry policy, shortened: 3 attempts, 10 ms apart.
      await p.queues.outbound.add(
        'send',
        { messageId: message.id },
        { jobId: `send-${message.id}`, attempts: 3, backoff: { type: 'fixed', delay: 10 } },
      );
      const done = await p.finished(message.id);
      expect(done.state).toBe('completed');
      expect(done.returned).toBe('failed');
      expect(p.provider.calls).toBe(calls + 3);
      expect(done.message).toMatchObject({ status: 'failed', error_code: '20500' });
      const audit = (await listAuditEvents(getDb(), who.id)).filter(
        (e) => e.kind === 'send_failed',
      );
      expect(audit.map((e) => e.detail)).toEqual([
        { messageId: message.id, code: '20500', attempts: 3 },
      ]);
      expect(await notices(getDb(), who.id)).toEqual(['send_failed']);
    } finally {
      p.provider.always = null;
    }
  });

  it('36: a 5xx then success: retried, sent once, nothing reported', async () => {
    const { phone, who } = await consenting();
    p.provider.script.push({ kind: 'retryable', code: '20503' });
    const { message } = await insertOutbound(getDb(), {
      channel: 'sms',
      participantId: who.id,
      address: phone,
      body: 'See you tomorrow at 10:00.',
      kind: 'reminder',
    });
    await p.queues.outbound.add(
      'send',
      { messageId: message.id },
      { jobId: `send-${message.id}`, attempts: 3, backoff: { type: 'fixed', delay: 10 } },
    );
    const done = await p.finished(message.id);
    expect(done.message.status).toBe('sent');
    expect(p.provider.accepted.filter((a) => a.to === phone)).toHaveLength(1);
    expect(await notices(getDb(), who.id)).toEqual([]);
  });
});
