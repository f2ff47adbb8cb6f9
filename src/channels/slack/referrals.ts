import { z } from 'zod';
import type { Db } from '../../store/db.js';
import { appendAudit } from '../../store/repos/audit.js';
import type { SlackDeps } from './deps.js';
import { type ActionOutcome, linkWorkerName } from './handoff-actions.js';
import { escapeMrkdwn } from './handoff-card.js';
import { enqueuePost } from './outbox.js';

export const REFERRAL_ASSIGN = 'referral_assign';

interface NewReferral {
  id: string;
  ref: string;
  first_name: string | null;
  consent: string;
  route: string;
  reason: string | null;
  referrer_org: string | null;
  preferred_lang: string;
}

export function referralCard(
  r: NewReferral,
  assignedTo?: string,
): { text: string; blocks: unknown[] } {
  const name = r.consent === 'given' && r.first_name ? ` (${escapeMrkdwn(r.first_name)})` : '';
  const lines = [
    `*New referral ${r.ref}*${name}`,
    `*Route:* ${r.route.replaceAll('_', ' ')}${r.referrer_org ? ` (${escapeMrkdwn(r.referrer_org)})` : ''}`,
    `*Reason:* ${(r.reason ?? 'not given').replaceAll('_', ' ')} · *Language:* ${r.preferred_lang}`,
  ];
  const blocks: unknown[] = [{ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n') } }];
  if (assignedTo)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: `Assigned to <@${assignedTo}>` }],
    });
  else
    blocks.push({
      type: 'actions',
      block_id: 'referral',
      elements: [
        {
          type: 'button',
          action_id: REFERRAL_ASSIGN,
          text: { type: 'plain_text', text: 'Assign to me' },
          style: 'primary',
          value: JSON.stringify({ r: r.id }),
        },
      ],
    });
  return {
    text: `New referral ${r.ref}: ${(r.reason ?? 'reason not given').replaceAll('_', ' ')}`,
    blocks,
  };
}

const SELECT = `SELECT r.id, p.ref, p.first_name, p.consent, r.route, r.reason, r.referrer_org, p.preferred_lang
  FROM referrals r JOIN participants p ON p.id = r.participant_id`;

/** Posts every new referral not yet posted (once each: the outbox row is the marker). */
export async function announceReferrals(deps: SlackDeps): Promise<number> {
  let n = 0;
  await deps.db.transaction(async (tx) => {
    const { rows } = await tx.query<NewReferral>(
      `${SELECT} WHERE r.status = 'new' AND NOT EXISTS
         (SELECT 1 FROM slack_outbox o WHERE o.thread_key = 'referral:' || r.id::text)
       ORDER BY r.referred_at LIMIT 50`,
    );
    for (const r of rows)
      await enqueuePost(tx, {
        threadKey: `referral:${r.id}`,
        op: 'post',
        channel: deps.cfg.referralsChannel,
        payload: referralCard(r),
      });
    n = rows.length;
  });
  if (n > 0) void deps.outbox.kick();
  return n;
}

const value = z.object({ r: z.uuid() }).strict();

/** "Assign to me": sets the referral's and the participant's link worker, first click wins. */
export async function assignReferral(
  deps: SlackDeps,
  user: string,
  raw: string | undefined,
): Promise<ActionOutcome & { card?: { text: string; blocks: unknown[] } }> {
  let parsed: { r: string } | null = null;
  try {
    const r = value.safeParse(JSON.parse(raw ?? ''));
    parsed = r.success ? r.data : null;
  } catch {
    parsed = null;
  }
  if (!parsed) return { ok: false, ephemeral: 'That button is not valid; nothing was changed.' };
  if (!(await linkWorkerName(deps.db, user)))
    return { ok: false, ephemeral: 'Only link workers can take referrals; nothing was changed.' };
  const id = parsed.r;
  return deps.db.transaction(async (tx: Db) => {
    const { rows } = await tx.query<{ participant_id: string }>(
      `UPDATE referrals SET status = 'assigned', link_worker = $2, assigned_at = now(), updated_at = now()
       WHERE id = $1 AND status = 'new' RETURNING participant_id`,
      [id, user],
    );
    const row = rows[0];
    if (!row) {
      const cur = await tx.query<{ link_worker: string | null }>(
        'SELECT link_worker FROM referrals WHERE id = $1',
        [id],
      );
      const who = cur.rows[0]?.link_worker;
      return {
        ok: false,
        ephemeral: who
          ? `This referral is already assigned to <@${who}>.`
          : 'This referral is no longer open.',
      };
    }
    await tx.query(
      'UPDATE participants SET assigned_link_worker = $2, updated_at = now() WHERE id = $1',
      [row.participant_id, user],
    );
    await appendAudit(tx, {
      participantId: row.participant_id,
      kind: 'referral_assigned',
      actor: `slack:${user}`,
      detail: { referral: id },
    });
    const card = await tx.query<NewReferral>(`${SELECT} WHERE r.id = $1`, [id]);
    return { ok: true, ...(card.rows[0] ? { card: referralCard(card.rows[0], user) } : {}) };
  });
}
