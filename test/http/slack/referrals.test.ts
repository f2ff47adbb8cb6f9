import { describe, expect, it } from 'vitest';
import { createParticipant } from '../../../src/store/repos/participants.js';
import { waitFor } from '../../support/pipeline.js';
import { AMY, RAJ, REFERRALS, useHarness } from './harness.js';

// Referral notices: each new referral in the referrals channel; "Assign to me" sets the link worker.

const h = useHarness();

describe('referral notices', () => {
  it('posts each new referral once; the first "Assign to me" sets the link worker', async () => {
    const p = await createParticipant(h.service.db, { phone: h.phone(), firstName: 'Bea' });
    await h.service.db.query(
      `INSERT INTO referrals (participant_id, route, reason, referrer_org) VALUES ($1, 'gp_primary_care', 'loneliness_isolation', 'Stretford Surgery')`,
      [p.id],
    );
    await h.service.slack.sweep();
    await h.service.slack.sweep();
    await waitFor(() => h.slack.messages(REFERRALS).some((m) => m.text.includes(p.ref)));
    await h.service.slack.outbox.drain();
    const notices = h.slack.messages(REFERRALS).filter((m) => m.text.includes(p.ref));
    expect(notices).toHaveLength(1);
    const notice = notices[0]!;
    expect(JSON.stringify(notice.blocks)).toContain('loneliness isolation');
    expect(JSON.stringify(notice.blocks)).not.toContain('Bea'); // no consent yet: no first name
    await Promise.all(
      [AMY, RAJ].map((user) =>
        h.slack.clickButton({
          user,
          channel: REFERRALS,
          ts: notice.ts,
          actionId: 'referral_assign',
        }),
      ),
    );
    await waitFor(async () => {
      const { rows } = await h.service.db.query<{ assigned_link_worker: string | null }>(
        'SELECT assigned_link_worker FROM participants WHERE id = $1',
        [p.id],
      );
      return rows[0]?.assigned_link_worker !== null;
    });
    const { rows } = await h.service.db.query<{
      assigned_link_worker: string;
      link_worker: string;
      status: string;
    }>(
      'SELECT p.assigned_link_worker, r.link_worker, r.status FROM participants p JOIN referrals r ON r.participant_id = p.id WHERE p.id = $1',
      [p.id],
    );
    expect(rows[0]!.status).toBe('assigned');
    expect(rows[0]!.link_worker).toBe(rows[0]!.assigned_link_worker);
    await waitFor(() =>
      JSON.stringify(h.slack.message(REFERRALS, notice.ts)?.blocks).includes(
        `Assigned to <@${rows[0]!.assigned_link_worker}>`,
      ),
    );
    await waitFor(() => h.slack.ephemerals().some((e) => /already assigned/.test(e.text)));
  });
});
