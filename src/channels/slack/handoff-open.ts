import { DateTime } from 'luxon';
import type { SlackAppConfig } from '../../config/slack-app.js';
import type { Effects } from '../../runner/effects.js';
import type { GlobalRule } from '../../runner/runner.js';
import type { Db } from '../../store/db.js';
import type { Participant } from '../../store/repos/participants.js';
import type { SlackDeps } from './deps.js';
import { queueDutySms } from './duty.js';
import {
  type CardContext,
  cardContext,
  escapeMrkdwn,
  getHandoff,
  type HandoffRow,
  handoffCard,
  safetyWarning,
} from './handoff-card.js';
import { enqueuePost } from './outbox.js';
import { queueSms, textFor } from './sms.js';

export const threadKey = (handoffId: string) => `handoff:${handoffId}`;

/** Whether link workers are at work at `at` (in the service's zone). */
export function isStaffed(cfg: SlackAppConfig, at: DateTime): boolean {
  const hm = at.toFormat('HH:mm');
  return cfg.staffed.days.includes(at.weekday) && hm >= cfg.staffed.start && hm < cfg.staffed.end;
}

/** The next moment link workers are at work. */
export function nextStaffed(cfg: SlackAppConfig, from: DateTime): DateTime {
  const [h = 9, m = 0] = cfg.staffed.start.split(':').map(Number);
  for (let i = 0; i < 8; i += 1) {
    const day = from.plus({ days: i }).set({ hour: h, minute: m, second: 0, millisecond: 0 });
    if (cfg.staffed.days.includes(day.weekday) && day > from) return day;
  }
  return from.plus({ days: 1 });
}

/**
 * Queues the hand-off's parent message (once: a unique index keeps it to one) in the
 * caller's transaction. Outside staffed hours the participant is told when someone will
 * reply and the fallback contact (and, for an urgent one, the duty phone) is alerted.
 *
 * A hand-off that already had its parent and has since been raised to urgent (a crisis
 * during a hand-off) gets its card updated, a mention of whoever claimed it, and the same
 * out-of-hours path, once per raise. Returns whether a parent was queued now.
 */
export async function ensureParent(
  tx: Db,
  deps: SlackDeps,
  handoff: HandoffRow,
  effects: Effects,
  tz: string,
): Promise<boolean> {
  if (handoff.status !== 'open' && handoff.status !== 'claimed') return false;
  const ctx = await cardContext(tx, handoff);
  if (!ctx) return false;
  const id = await enqueuePost(tx, {
    threadKey: threadKey(handoff.id),
    handoffId: handoff.id,
    op: 'post_parent',
    channel: deps.cfg.handoffChannel,
    payload: handoffCard(ctx),
  });
  const now = DateTime.fromJSDate(deps.now()).setZone(tz);
  if (!id) {
    if (handoff.urgency === 'urgent' && (await raisedSinceLastPost(tx, handoff.id))) {
      await announceRaise(tx, deps, ctx);
      await outOfHours(tx, deps, ctx, effects, now);
    }
    return false;
  }
  await tx.query('UPDATE handoffs SET last_pinged_at = $2 WHERE id = $1', [handoff.id, deps.now()]);
  await outOfHours(tx, deps, ctx, effects, now);
  return true;
}

/** Raised to urgent since the last Slack post about it was queued (so not announced yet). */
async function raisedSinceLastPost(tx: Db, handoffId: string): Promise<boolean> {
  const { rows } = await tx.query<{ raised: boolean }>(
    `SELECT h.urgent_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM slack_outbox o
       WHERE o.handoff_id = h.id AND o.created_at >= h.urgent_at) AS raised
     FROM handoffs h WHERE h.id = $1`,
    [handoffId],
  );
  return rows[0]?.raised === true;
}

/**
 * An open hand-off just raised to urgent: the card is brought up to date (reason, urgency,
 * the safety-text warning). Unclaimed, the @here ping follows from pingDue at once; claimed,
 * whoever has it is told in the thread, broadcast to the channel.
 */
async function announceRaise(tx: Db, deps: SlackDeps, ctx: CardContext): Promise<void> {
  const h = ctx.handoff;
  await enqueuePost(tx, {
    threadKey: threadKey(h.id),
    handoffId: h.id,
    op: 'update_parent',
    channel: deps.cfg.handoffChannel,
    payload: handoffCard(ctx),
  });
  if (h.status !== 'claimed') return;
  const who = h.claimed_by ? `<@${h.claimed_by}> ` : '';
  const warning = ctx.safetyWarning ? `\n${ctx.safetyWarning}` : '';
  await broadcastInThread(
    tx,
    deps,
    h.id,
    `${who}:rotating_light: URGENT: hand-off ${ctx.participant.ref} is now urgent (${h.reason.replaceAll('_', ' ')}).${warning}`,
  );
}

/** A reply in the hand-off's thread, also shown in the channel (reply_broadcast). */
async function broadcastInThread(tx: Db, deps: SlackDeps, handoffId: string, text: string) {
  await enqueuePost(tx, {
    threadKey: threadKey(handoffId),
    handoffId,
    op: 'post_reply',
    channel: deps.cfg.handoffChannel,
    payload: { text, reply_broadcast: true },
  });
}

/**
 * Outside staffed hours: the participant is told when someone will reply (after the safety
 * text, which was written first: one person's texts leave in the order written), the
 * fallback contact is alerted, and for an urgent hand-off the duty phone is texted. Each
 * once per hand-off (dedupe keys), whoever calls it.
 */
async function outOfHours(
  tx: Db,
  deps: SlackDeps,
  ctx: CardContext,
  effects: Effects,
  now: DateTime,
): Promise<void> {
  if (isStaffed(deps.cfg, now)) return;
  const handoff = ctx.handoff;
  const p = ctx.participant;
  const urgent = handoff.urgency === 'urgent';
  const next = nextStaffed(deps.cfg, now).setLocale(p.preferredLang);
  const body = textFor(deps, p, 'handoff.out_of_hours', { when: next.toFormat('cccc HH:mm') });
  if (body)
    await queueSms(tx, effects, p, {
      body,
      kind: 'handoff',
      templateKey: 'handoff.out_of_hours',
      dedupeKey: `handoff-ooh-${handoff.id}`,
    });
  if (deps.cfg.fallbackContact)
    await enqueuePost(tx, {
      // An urgent one once per hand-off (a unique index); a normal one with its new parent.
      threadKey: `${urgent ? 'urgent-alert' : 'alert'}:${handoff.id}`,
      handoffId: handoff.id,
      op: 'post',
      channel: deps.cfg.fallbackContact,
      payload: {
        text: `${urgent ? ':rotating_light: URGENT ' : ''}Hand-off ${p.ref} (${handoff.reason.replaceAll('_', ' ')}) opened outside staffed hours. Link workers are back ${next.setLocale('en-GB').toFormat('cccc HH:mm')}.`,
      },
    });
  if (urgent)
    await queueDutySms(
      tx,
      deps,
      effects,
      { id: handoff.id, participantId: p.id, ref: p.ref },
      'out_of_hours',
    );
}

/** Re-pings an unclaimed hand-off in its thread, broadcast to the channel; urgent ones with @here. */
async function ping(tx: Db, deps: SlackDeps, h: PingRow) {
  const minutes = Math.round((deps.now().getTime() - h.opened_at.getTime()) / 60_000);
  const who =
    h.urgency === 'urgent'
      ? '<!here> :rotating_light: URGENT'
      : h.assigned
        ? `<@${h.assigned}>`
        : '<!here>';
  // An urgent crisis ping repeats the card's warning when the safety text did not reach them.
  const warning =
    h.urgency === 'urgent'
      ? await safetyWarning(tx, h, { id: h.participant_id, numberStatus: h.number_status })
      : null;
  await broadcastInThread(
    tx,
    deps,
    h.id,
    `${who} Hand-off ${h.ref} is still unclaimed (opened ${minutes} min ago). Please claim it.${warning ? `\n${warning}` : ''}`,
  );
}

type PingRow = Pick<HandoffRow, 'id' | 'urgency' | 'reason' | 'participant_id'> & {
  ref: string;
  assigned: string | null;
  opened_at: Date;
  number_status: Participant['numberStatus'];
};

/** Hand-offs whose re-ping is due (urgent: at once when raised, then every 10 minutes). */
export async function pingDue(db: Db, deps: SlackDeps, only?: readonly string[]): Promise<number> {
  const now = deps.now();
  const normal = new Date(now.getTime() - deps.cfg.repingMinutes * 60_000);
  const urgent = new Date(now.getTime() - deps.cfg.urgentRepingMinutes * 60_000);
  let count = 0;
  await db.transaction(async (tx) => {
    const { rows } = await tx.query<PingRow>(
      `UPDATE handoffs h SET last_pinged_at = $1, ping_count = h.ping_count + 1
       FROM participants p
       WHERE p.id = h.participant_id AND h.status = 'open'
         AND ($4::uuid[] IS NULL OR h.id = ANY($4::uuid[]))
         AND EXISTS (SELECT 1 FROM slack_outbox o WHERE o.handoff_id = h.id AND o.op = 'post_parent')
         AND ((h.urgency = 'urgent' AND (h.last_pinged_at IS NULL OR h.last_pinged_at <= $3))
           OR (h.urgency = 'normal' AND h.last_pinged_at <= $2))
       RETURNING h.id, h.urgency, h.reason, h.opened_at, h.participant_id, p.ref,
         p.assigned_link_worker AS assigned, p.number_status`,
      [now, normal, urgent, only ? [...only] : null],
    );
    for (const h of rows) await ping(tx, deps, h);
    count = rows.length;
  });
  return count;
}

/** After commit: parents for new hand-offs, pings for raised ones, then the outbox runs. */
export async function announceHandoffs(
  deps: SlackDeps,
  ids: readonly string[],
  tz: string,
): Promise<void> {
  for (const id of ids) {
    const effects = { sends: [], items: [], cancelledJobs: [], handoffs: [] } as Effects;
    await deps.db.transaction(async (tx) => {
      const h = await getHandoff(tx, id, true);
      if (h) await ensureParent(tx, deps, h, effects, tz);
    });
    await deps.sink(effects);
  }
  if (ids.length > 0) await pingDue(deps.db, deps, ids);
  void deps.outbox.kick();
}

/** Open hand-offs that have no parent yet (the process died between commit and announce). */
export async function missingParents(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT h.id FROM handoffs h WHERE h.status IN ('open', 'claimed')
       AND NOT EXISTS (SELECT 1 FROM slack_outbox o WHERE o.handoff_id = h.id AND o.op = 'post_parent')
     ORDER BY h.opened_at LIMIT 100`,
  );
  return rows.map((r) => r.id);
}

/**
 * Hand-offs raised to urgent after their parent was queued with nothing queued about them
 * since (the process died between the crisis's commit and its announce).
 */
export async function unannouncedRaises(db: Db): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT h.id FROM handoffs h WHERE h.status IN ('open', 'claimed') AND h.urgency = 'urgent'
       AND h.urgent_at IS NOT NULL
       AND EXISTS (SELECT 1 FROM slack_outbox o WHERE o.handoff_id = h.id AND o.op = 'post_parent')
       AND NOT EXISTS (SELECT 1 FROM slack_outbox o WHERE o.handoff_id = h.id AND o.created_at >= h.urgent_at)
     ORDER BY h.urgent_at LIMIT 100`,
  );
  return rows.map((r) => r.id);
}

/**
 * While a hand-off is open, whatever the participant texts goes into its thread (after the
 * rules that must always work: crisis, STOP, START). The flow stays paused: it is not run.
 */
export function relayRule(deps: SlackDeps, tz: string): GlobalRule {
  return async (ctx) => {
    // Read with the turn's other reads when the runner could (one round trip less per text).
    const id =
      ctx.openHandoff !== undefined
        ? ctx.openHandoff
        : (
            await ctx.tx.query<{ id: string }>(
              `SELECT id FROM handoffs WHERE participant_id = $1 AND status IN ('open', 'claimed')`,
              [ctx.participant.id],
            )
          ).rows[0]?.id;
    if (!id) return false;
    const h = await getHandoff(ctx.tx, id, true);
    if (!h) return false;
    await ensureParent(ctx.tx, deps, h, ctx.effects, tz);
    await enqueuePost(ctx.tx, {
      threadKey: threadKey(id),
      handoffId: id,
      op: 'post_reply',
      channel: deps.cfg.handoffChannel,
      payload: { text: `:speech_balloon: *${ctx.participant.ref}:* ${escapeMrkdwn(ctx.text)}` },
    });
    if (!ctx.effects.handoffs.includes(id)) ctx.effects.handoffs.push(id);
    return true;
  };
}

export interface UrgentHandoff {
  participantId: string;
  /** The conversation the crisis interrupted, if any. */
  conversationId?: string | null;
  /** A code such as 'crisis'. */
  reason?: string;
}

/**
 * Raises an urgent hand-off in the caller's transaction (the crisis rule): opens one, or
 * makes the open one urgent. After commit, the sink (see `slackSink`) posts it to Slack
 * with @here at once; it is re-pinged with @here every 10 minutes until claimed.
 */
export async function raiseUrgentHandoff(
  tx: Db,
  effects: Effects,
  input: UrgentHandoff,
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO handoffs (participant_id, conversation_session_id, reason, urgency, urgent_at)
     VALUES ($1, $2, $3, 'urgent', now()) ON CONFLICT (participant_id) WHERE status IN ('open', 'claimed')
     DO UPDATE SET urgency = 'urgent', last_pinged_at = NULL, urgent_at = now(), updated_at = now()
     RETURNING id`,
    [
      input.participantId,
      input.conversationId ?? null,
      (input.reason ?? 'crisis').replace(/[^a-z0-9_]/g, '_'),
    ],
  );
  const id = rows[0]!.id;
  if (!effects.handoffs.includes(id)) effects.handoffs.push(id);
  return id;
}
