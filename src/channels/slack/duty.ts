import { smsCost } from '../../engine/index.js';
import { type Effects, noEffects } from '../../runner/effects.js';
import type { Db } from '../../store/db.js';
import { appendAudit } from '../../store/repos/audit.js';
import { insertOutbound } from '../../store/repos/messages.js';
import type { SlackDeps } from './deps.js';

/**
 * The second channel for urgent (crisis) hand-offs (checklists 83, 84): one SMS to the duty
 * phone (DUTY_PHONE) per hand-off, at once when it is raised outside staffed hours, or when
 * no Slack post about it has gone out DUTY_ALERT_MINUTES after it was raised (Slack down or
 * refusing). The text names the participant by reference only.
 *
 * It is an ordinary outbox row (`messages`, kind `duty_alert`, no participant), so it is sent
 * by the same workers, paced, retried and reconciled like any SMS; its dedupe key makes it one
 * per hand-off however many processes' sweeps find it due at once. Not a participant's text:
 * quiet hours never apply (they only hold scheduled reminders) and the send guard lets it
 * through whatever any participant's opt-out or consent is (send-guard.ts, STAFF_KINDS).
 */
export const DUTY_KIND = 'duty_alert';
/** As the safety message: ahead of everything else waiting. */
export const DUTY_PRIORITY = 100;

export type DutyWhy = 'out_of_hours' | 'slack_delayed';

/** One duty text per hand-off: the messages table's unique dedupe key. */
export const dutyKey = (handoffId: string) => `duty-${handoffId}`;

/** The duty text: the reference and where to look; never a name, a number or what they wrote. */
export function dutyText(ref: string, why: DutyWhy, minutes: number): string {
  const what =
    why === 'out_of_hours'
      ? 'raised outside staffed hours'
      : `not posted to Slack after ${minutes} min (Slack may be down)`;
  return `Linkline: URGENT hand-off for ${ref}, ${what}. Please check Slack and the case record now.`;
}

/**
 * Queues the duty text for this hand-off in the caller's transaction, unless DUTY_PHONE is
 * unset or it was queued before. Returns whether it was queued now.
 */
export async function queueDutySms(
  tx: Db,
  deps: Pick<SlackDeps, 'cfg' | 'logger'>,
  effects: Effects,
  h: { id: string; participantId: string; ref: string },
  why: DutyWhy,
): Promise<boolean> {
  const duty = deps.cfg.duty;
  if (!duty) return false;
  const body = dutyText(h.ref, why, duty.alertMinutes);
  const cost = smsCost(body);
  const { inserted, message } = await insertOutbound(tx, {
    channel: 'sms',
    participantId: null,
    address: duty.phone,
    body,
    encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: cost.segments,
    kind: DUTY_KIND,
    priority: DUTY_PRIORITY,
    dedupeKey: dutyKey(h.id),
  });
  if (!inserted) return false;
  effects.sends.push({ id: message.id, priority: DUTY_PRIORITY });
  await appendAudit(tx, {
    participantId: h.participantId,
    kind: 'duty_alerted',
    actor: 'system',
    detail: { handoffId: h.id, why, messageId: message.id },
  });
  deps.logger.warn(
    { ref: h.ref, why, alert: 'duty_phone' },
    'urgent hand-off: the duty phone is texted',
  );
  return true;
}

/**
 * The sweep's part (every 15 s, in every process): urgent hand-offs still open or claimed,
 * raised at least DUTY_ALERT_MINUTES ago, with no Slack post (parent or thread reply) about
 * them sent since, and no duty text yet. Each gets its duty text; returns how many. A post in
 * flight (claimed, its lease running) counts as sent until its lease runs out: Slack may
 * have taken it already, and a sweep 15 s later decides, so a working Slack that answered a
 * moment late does not wake the duty phone.
 */
export async function dutyDue(deps: SlackDeps): Promise<number> {
  const duty = deps.cfg.duty;
  if (!duty) return 0;
  const now = deps.now();
  const cutoff = new Date(now.getTime() - duty.alertMinutes * 60_000);
  const effects = noEffects();
  let queued = 0;
  await deps.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ id: string; participant_id: string; ref: string }>(
      `SELECT h.id, h.participant_id, p.ref FROM handoffs h
       JOIN participants p ON p.id = h.participant_id
       WHERE h.status IN ('open', 'claimed') AND h.urgency = 'urgent' AND h.urgent_at <= $1
         AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.dedupe_key = 'duty-' || h.id::text)
         AND NOT EXISTS (SELECT 1 FROM slack_outbox o WHERE o.handoff_id = h.id
           AND o.op IN ('post_parent', 'post_reply') AND o.created_at >= h.urgent_at
           AND (o.status = 'sent' OR (o.status = 'sending' AND o.lease_until > $2)))
       ORDER BY h.urgent_at LIMIT 50`,
      [cutoff, now],
    );
    for (const r of rows)
      if (
        await queueDutySms(
          tx,
          deps,
          effects,
          { id: r.id, participantId: r.participant_id, ref: r.ref },
          'slack_delayed',
        )
      )
        queued += 1;
  });
  if (effects.sends.length > 0) await deps.sink(effects);
  return queued;
}
