import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptInbound } from '../../src/runner/accept-inbound.js';
import { listConsentEvents } from '../../src/store/repos/audit.js';
import { createParticipant, setConsent, setOptOut } from '../../src/store/repos/participants.js';
import { drivers, uniquePhone, useTestDb } from '../store/drivers.js';
import { type GuardedPipeline, startGuardedPipeline } from '../support/guarded.js';
import { waitFor } from '../support/pipeline.js';

const pg = drivers.find((d) => d.name === 'pg')!;

describe('the send guard, re-read after the pacing wait (checklist 26, 28, 30, 32, 33)', () => {
  const getDb = useTestDb(pg, { migrated: true });
  let p: GuardedPipeline;
  beforeAll(async () => {
    p = await startGuardedPipeline(getDb(), { 'promo.walk_week': 'promotional' });
  });
  afterAll(async () => p.close());

  async function consenting(marketing = false) {
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), { phone });
    await setConsent(getDb(), who.id, 'given', {
      actor: 'participant',
      detail: { channel: 'sms', wording: 'intake.consent@1', lawfulBasis: 'consent', marketing },
    });
    return { phone, who };
  }

  async function inbound(phone: string, body: string) {
    const r = await acceptInbound(getDb(), {
      sid: `SM${randomBytes(16).toString('hex')}`,
      from: phone,
      body,
      numMedia: 0,
      segments: 1,
    });
    await p.queues.inbound.add(
      'inbound',
      { messageId: r.messageId },
      { jobId: `in-${r.messageId}` },
    );
    await waitFor(async () => {
      const { rows } = await getDb().query('SELECT processed_at FROM messages WHERE id = $1', [
        r.messageId,
      ]);
      return rows[0]?.processed_at != null;
    });
  }

  it('28: a reminder waiting for its pacing slot when STOP arrives sends nothing and completes as skipped', async () => {
    const { phone, who } = await consenting();
    p.pacer.close();
    const calls = p.provider.calls;
    const id = await p.queueMessage(who.id, phone);
    // The send has claimed the row and waits for its slot, past the first opt-out check.
    await waitFor(() => p.pacer.waiting === 1);
    expect(
      (await getDb().query('SELECT status FROM messages WHERE id = $1', [id])).rows[0]?.status,
    ).toBe('sending');
    await inbound(phone, 'STOP');
    p.pacer.open();
    const done = await p.finished(id);
    expect(done.state).toBe('completed');
    expect(done.returned).toBe('skipped');
    expect(done.message).toMatchObject({ status: 'skipped', skip_reason: 'opted_out' });
    expect(p.provider.calls).toBe(calls);
    expect(p.provider.accepted.some((a) => a.to === phone)).toBe(false);
  });

  it('30: our opt-out list is per person, not per sender: after STOP, no sender may text them', async () => {
    const { phone, who } = await consenting();
    // STOP reached Twilio on another of our numbers only; we learned it from the database.
    await setOptOut(getDb(), who.id, true, { actor: 'participant', detail: { keyword: 'STOP' } });
    const reminder = await p.queueMessage(who.id, phone);
    const reply = await p.queueMessage(who.id, phone, {
      kind: 'conversation',
      templateKey: 'global.help',
    });
    expect((await p.finished(reminder)).message.skip_reason).toBe('opted_out');
    expect((await p.finished(reply)).message.skip_reason).toBe('opted_out');
    expect(p.provider.accepted.some((a) => a.to === phone)).toBe(false);
  });

  it('30: a number on the suppression list (erased participant) is never texted', async () => {
    const { phone, who } = await consenting();
    await getDb().query("INSERT INTO suppressions (phone, reason) VALUES ($1, 'erased')", [phone]);
    const id = await p.queueMessage(who.id, phone, { kind: 'conversation' });
    expect((await p.finished(id)).message).toMatchObject({
      status: 'skipped',
      skip_reason: 'suppressed',
    });
  });

  it('32: without consent a reminder is skipped, but a reply to their own text goes', async () => {
    const phone = uniquePhone();
    const who = await createParticipant(getDb(), { phone });
    const reminder = await p.queueMessage(who.id, phone);
    const reply = await p.queueMessage(who.id, phone, {
      kind: 'conversation',
      templateKey: 'intake.consent',
    });
    expect((await p.finished(reminder)).message).toMatchObject({
      status: 'skipped',
      skip_reason: 'no_consent',
    });
    expect((await p.finished(reply)).message.status).toBe('sent');
  });

  it('32: consent withdrawn while a reminder waits for its slot: nothing is sent', async () => {
    const { phone, who } = await consenting();
    p.pacer.close();
    const id = await p.queueMessage(who.id, phone);
    await waitFor(() => p.pacer.waiting === 1);
    await setConsent(getDb(), who.id, 'withdrawn', { actor: 'participant' });
    p.pacer.open();
    expect((await p.finished(id)).message.skip_reason).toBe('no_consent');
    expect((await listConsentEvents(getDb(), who.id)).map((e) => e.kind)).toEqual([
      'consent_given',
      'consent_withdrawn',
    ]);
  });

  it('33: a promotional template needs PECR consent; a service one does not', async () => {
    const plain = await consenting(false);
    const agreed = await consenting(true);
    const refused = await p.queueMessage(plain.who.id, plain.phone, {
      kind: 'broadcast',
      templateKey: 'promo.walk_week',
    });
    const service = await p.queueMessage(plain.who.id, plain.phone);
    const allowed = await p.queueMessage(agreed.who.id, agreed.phone, {
      kind: 'broadcast',
      templateKey: 'promo.walk_week',
    });
    expect((await p.finished(refused)).message.skip_reason).toBe('no_marketing_consent');
    expect((await p.finished(service)).message.status).toBe('sent');
    expect((await p.finished(allowed)).message.status).toBe('sent');
  });

  it('33: an untagged template key is treated as promotional (refused without PECR consent)', async () => {
    const { phone, who } = await consenting(false);
    const id = await p.queueMessage(who.id, phone, {
      kind: 'conversation',
      templateKey: 'new.untagged_key',
    });
    expect((await p.finished(id)).message.skip_reason).toBe('no_marketing_consent');
  });

  it('26: while reminders are paused a reminder is skipped with the reason; a reply still goes', async () => {
    const { phone, who } = await consenting();
    await getDb().query(
      "UPDATE participants SET tags = array_append(tags, 'reminders_paused') WHERE id = $1",
      [who.id],
    );
    const reminder = await p.queueMessage(who.id, phone);
    const reply = await p.queueMessage(who.id, phone, {
      kind: 'conversation',
      templateKey: 'global.soft_stop',
    });
    expect((await p.finished(reminder)).message.skip_reason).toBe('reminders_paused');
    expect((await p.finished(reply)).message.status).toBe('sent');
  });
});
