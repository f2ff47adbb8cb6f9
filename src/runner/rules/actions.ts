import { render, type Session, smsCost } from '../../engine/index.js';
import type { Db } from '../../store/db.js';
import { loadActiveSession, saveSession } from '../../store/repos/conversation-sessions.js';
import { insertOutbound } from '../../store/repos/messages.js';
import { applyEvents } from '../apply-events.js';
import type { RuleContext } from '../runner.js';
import type { RuleDeps } from './deps.js';

/** The part of a rule's context that acting on a participant needs. */
export type Turn = Pick<RuleContext, 'tx' | 'participant' | 'effects'>;

/** Rule replies answer the participant's own text: they go ahead of bulk reminders. */
export const REPLY_PRIORITY = 10;

export interface ReplyOptions {
  lang?: string;
  values?: Record<string, string | number>;
  /** Text appended on a new line (the same SMS): a question asked again. */
  extra?: string;
  /** The participant's opt-out as it is now, when the rule just changed it. */
  optedOut?: boolean;
  kind?: string;
}

/** Renders a locale key for the participant. */
export function text(
  deps: RuleDeps,
  key: string,
  lang: string,
  values: Record<string, string | number> = {},
): string | null {
  const r = render(deps.locales, key, values, lang, deps.defaultLang);
  if (!r.ok) deps.logger.error({ key, lang }, 'global rule text missing in every language');
  return r.ok ? r.text : null;
}

/**
 * Writes one outbox row (one SMS) for a rule and asks for it to be sent after commit. The
 * outbox re-checks opt-out right before the provider call, as for every message.
 */
export async function reply(
  ctx: Turn,
  deps: RuleDeps,
  key: string,
  opts: ReplyOptions = {},
): Promise<void> {
  const p = ctx.participant;
  const rendered = text(deps, key, opts.lang ?? p.preferredLang, opts.values);
  if (rendered === null) return;
  const body = opts.extra ? `${rendered}\n${opts.extra}` : rendered;
  const cost = smsCost(body);
  const optedOut = opts.optedOut ?? p.optedOut;
  const blocked = optedOut ? 'opted_out' : p.phone === null ? 'no_number' : undefined;
  const { message } = await insertOutbound(ctx.tx, {
    channel: 'sms',
    participantId: p.id,
    address: p.phone,
    body,
    encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: cost.segments,
    templateKey: key,
    kind: opts.kind ?? 'conversation',
    priority: REPLY_PRIORITY,
    ...(blocked ? { skipReason: blocked } : {}),
  });
  if (!blocked) ctx.effects.sends.push({ id: message.id, priority: REPLY_PRIORITY });
}

/**
 * Ends the participant's conversation as interrupted, as the runner does when a new flow
 * starts: its wait timers are cancelled. Returns the ended conversation's id, if any.
 */
export async function endConversation(
  ctx: Turn,
  deps: Pick<RuleDeps, 'logger' | 'now'>,
): Promise<string | null> {
  const conv = await loadActiveSession<Session>(ctx.tx, ctx.participant.id);
  if (!conv) return null;
  const at = deps.now().toISOString();
  await applyEvents(
    {
      tx: ctx.tx,
      participant: ctx.participant,
      conversationId: conv.id,
      flowId: conv.flowId,
      effects: ctx.effects,
      logger: deps.logger,
      kind: 'conversation',
      priority: REPLY_PRIORITY,
    },
    [{ type: 'flow_ended', at, flow_id: conv.flowId, status: 'interrupted' }],
  );
  const saved = await saveSession(ctx.tx, {
    id: conv.id,
    expectedVersion: conv.version,
    state: { ...conv.state, status: 'ended', ended: { status: 'interrupted', at } },
    status: 'ended',
  });
  if (!saved) throw new Error('conversation changed under the participant lock');
  return conv.id;
}

/**
 * Opens a hand-off for the link worker (or keeps the one already open: a participant has at
 * most one) and asks for the people to be told after commit.
 */
export async function openHandoff(
  tx: Db,
  effects: RuleContext['effects'],
  participantId: string,
  reason: string,
  conversationId: string | null,
): Promise<string> {
  const { rows } = await tx.query<{ id: string }>(
    `INSERT INTO handoffs (participant_id, conversation_session_id, reason)
     VALUES ($1, $2, $3) ON CONFLICT (participant_id) WHERE status IN ('open', 'claimed')
     DO UPDATE SET updated_at = now() RETURNING id`,
    [participantId, conversationId, reason],
  );
  const id = rows[0]!.id;
  if (!effects.handoffs.includes(id)) effects.handoffs.push(id);
  return id;
}

/**
 * The inbound message the runner is handling: its oldest unprocessed one, under the lock (as
 * the runner read it, when it did).
 */
export async function currentInbound(
  ctx: Turn & Pick<RuleContext, 'inbound'>,
): Promise<{ id: string; numMedia: number } | null> {
  if (ctx.inbound) return ctx.inbound;
  const { rows } = await ctx.tx.query<{ id: string; num_media: number }>(
    `SELECT id, num_media FROM messages WHERE participant_id = $1 AND direction = 'in'
       AND processed_at IS NULL ORDER BY seq LIMIT 1`,
    [ctx.participant.id],
  );
  const row = rows[0];
  return row ? { id: row.id, numMedia: row.num_media } : null;
}
