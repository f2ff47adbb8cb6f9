import { describe, expect, it } from 'vitest';
import { NOTICE_TEXT, noticeMessage } from '../../../src/channels/slack/notices.js';
import { NOTICE_REASONS, noticeLinkWorker } from '../../../src/runner/link-worker-notice.js';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, HANDOFFS, useHarness } from './harness.js';

// Link-worker notices (a landline, a number to fix, an undelivered reminder, a carrier
// opt-out, a pause, a text sent twice) reach the hand-off channel: once each, by ref.

const h = useHarness();

const posted = (ref: string) =>
  h.slack.messages(HANDOFFS).filter((m) => m.botId && m.text.includes(ref));

describe('link-worker notices in Slack', () => {
  it('each is posted once, by ref, mentioning the link worker, even with two sweeps at once', async () => {
    const phone = h.phone();
    const p = await createParticipant(h.service.db, { phone, firstName: 'Bea' });
    await h.service.db.query('UPDATE participants SET assigned_link_worker = $2 WHERE id = $1', [
      p.id,
      AMY,
    ]);
    await noticeLinkWorker(h.service.db, p.id, 'landline', { code: '21614', messageId: null });
    await noticeLinkWorker(h.service.db, p.id, 'reminder_not_delivered', {
      status: 'undelivered',
      code: 30003,
      redelivery: 'planned',
    });
    // Two processes' sweeps racing, then a third: still one post per notice.
    await Promise.all([h.service.slack.sweep(), h.service.slack.sweep()]);
    await h.service.slack.sweep();
    await waitFor(() => posted(p.ref).length >= 2);
    await h.service.slack.outbox.drain();
    // One outbox key per notice: they may reach Slack in either order.
    const texts = posted(p.ref).map((m) => m.text);
    expect(texts).toHaveLength(2);
    const landline = texts.find((t) => t.includes('cannot take texts'));
    const reminder = texts.find((t) => t.includes('was not delivered'));
    expect(landline).toMatch(/^<@U0LWAMY001> .*\(landline or not a mobile \(21614\)\)/);
    expect(reminder).toMatch(/reminder to .* was not delivered \(undelivered, 30003\)/);
    expect(reminder).toContain('try once more in about an hour');
    // Ref only: no number, no name.
    for (const t of texts) {
      expect(t).not.toContain(phone.slice(3));
      expect(t).not.toContain('Bea');
    }
  });

  it('the local Twilio reports a landline (30006): the link worker reads it in Slack', async () => {
    const phone = '+447700900906';
    await h.sms(phone, 'hello');
    const p = await h.participant(phone);
    await waitFor(async () => {
      await h.service.slack.sweep();
      return posted(p.ref).some((m) => /cannot take texts/.test(m.text));
    }, 20_000);
    expect(posted(p.ref).filter((m) => /cannot take texts/.test(m.text))).toHaveLength(1);
  });

  it('a notice older than the window stays in the audit trail only', async () => {
    const p = await createParticipant(h.service.db, { phone: h.phone() });
    await h.service.db.query(
      `INSERT INTO audit_events (participant_id, kind, actor, detail, at)
       VALUES ($1, 'link_worker_notice', 'system', '{"reason":"fix_number"}', now() - interval '8 days')`,
      [p.id],
    );
    await noticeLinkWorker(h.service.db, p.id, 'send_failed', { code: null });
    await h.service.slack.sweep();
    await waitFor(() => posted(p.ref).length >= 1);
    await h.service.slack.outbox.drain();
    expect(posted(p.ref).map((m) => m.text)).toEqual([
      expect.stringMatching(/could not be sent after several tries\.$/),
    ]);
  });

  it('every reason has its own line; an unknown one still says something', () => {
    for (const reason of NOTICE_REASONS) {
      const line = noticeMessage({ detail: { reason }, ref: 'P-TEST', link_worker: null });
      expect(line).toContain('P-TEST');
      expect(line).not.toMatch(/undefined|null/);
    }
    expect(Object.keys(NOTICE_TEXT).sort()).toEqual([...NOTICE_REASONS].sort());
    expect(
      noticeMessage({ detail: { reason: 'new_thing' }, ref: null, link_worker: '<!here>' }),
    ).toBe(':information_source: Notice for A participant: new thing.');
  });
});
