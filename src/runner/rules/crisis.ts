import { randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import { type LocaleSet, render, smsCost, start } from '../../engine/index.js';
import { containsPhrase } from '../../engine/reply.js';
import { normalize, phraseTokens, tokens } from '../../engine/text.js';
import { appendAudit } from '../../store/repos/audit.js';
import { startSession } from '../../store/repos/conversation-sessions.js';
import { insertOutbound } from '../../store/repos/messages.js';
import { applyEvents } from '../apply-events.js';
import { participantContext } from '../context.js';
import type { GlobalRule, RuleContext } from '../runner.js';
import { currentInbound, endConversation, openHandoff } from './actions.js';
import type { RuleDeps } from './deps.js';
import { phrases } from './keywords.js';
import { loadSafetyConfig, type SafetyConfig } from './safety-config.js';

/** The flow that sends the safety message and hands over urgently (flows/crisis.yaml). */
export const CRISIS_FLOW = 'crisis';
export const CRISIS_KEY = 'crisis.safety';
/** Safety messages go ahead of everything else waiting to be sent. */
export const CRISIS_PRIORITY = 100;
/** A second crisis message within this long raises the hand-off again but does not repeat the text. */
export const CRISIS_RESEND_MINUTES = 15;

/** Every shipped locale's `keywords.crisis`: a phrase in any language counts for everyone. */
export function crisisPhrases(locales: LocaleSet): string[] {
  return phrases(locales, 'crisis');
}

/**
 * Every shipped locale's `keywords.crisis_lookalike`, normalised: everyday words one letter from
 * a crisis word (Arabic انتظار "waiting" beside انتحار), which are never read as its typo.
 */
export function crisisLookalikes(locales: LocaleSet): ReadonlySet<string> {
  return new Set(phrases(locales, 'crisis_lookalike').map((w) => normalize(w)));
}

/**
 * Where a sentence ends, for the phrases that count only there: sentence punctuation (Latin,
 * Arabic, Urdu, CJK), a new line, or an emoji.
 */
const SENTENCE_END = /[.!?,;:\n\u2026\u061f\u06d4\u3002]|\p{Extended_Pictographic}/u;

/**
 * A phrase ending in "." counts only where a sentence ends (SENTENCE_END, or the end of the
 * message): "I can't go on." and "can't go on, I'm so tired", not "I can't go on Tuesday".
 */
export function endsSentence(phrase: string): boolean {
  return phrase.trimEnd().endsWith('.');
}

/**
 * True when the message contains a crisis phrase anywhere (a phrase ending in "." only where
 * a sentence ends: endsSentence), on normalised text (case, accents, punctuation, spacing),
 * with one typo allowed in words of five letters or more, except for the lookalike words
 * (matched only exactly). Deliberately over-inclusive: a false alarm costs a link worker a
 * look, a miss can cost a life.
 */
export function isCrisis(
  text: string,
  list: readonly string[],
  lookalikes: ReadonlySet<string> = new Set(),
): boolean {
  const said = tokens(normalize(text));
  if (said.length === 0) return false;
  let sentences: string[][] | undefined;
  return list.some((phrase) => {
    if (!endsSentence(phrase)) return containsPhrase(said, phrase, lookalikes);
    sentences ??= text.split(new RegExp(SENTENCE_END, 'gu')).map((s) => tokens(normalize(s)));
    const k = phraseTokens(phrase).length;
    return sentences.some(
      (words) => words.length >= k && containsPhrase(words.slice(-k), phrase, lookalikes),
    );
  });
}

async function recentSafetyMessage(ctx: RuleContext, deps: RuleDeps): Promise<boolean> {
  const since = new Date(deps.now().getTime() - CRISIS_RESEND_MINUTES * 60_000);
  const { rows } = await ctx.tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM messages WHERE participant_id = $1 AND direction = 'out'
       AND kind = 'crisis' AND created_at > $2`,
    [ctx.participant.id, since],
  );
  return (rows[0]?.n ?? 0) > 0;
}

/** The crisis flow: the safety message and the urgent hand-off, as one new conversation. */
async function runCrisisFlow(
  ctx: RuleContext,
  deps: RuleDeps,
  safety: SafetyConfig,
  send: boolean,
): Promise<string | null> {
  const flow = deps.flows?.[CRISIS_FLOW];
  if (!flow) return null;
  const p = ctx.participant;
  const { session, events } = start(
    flow,
    { context: { participant: participantContext(p), trigger: { ...safety.contacts } } },
    {
      now: DateTime.fromJSDate(deps.now()).setZone(p.tz),
      newId: randomUUID,
      flows: deps.flows ?? {},
      locales: deps.locales,
      defaultLang: deps.defaultLang,
    },
  );
  const conv = await startSession(ctx.tx, {
    participantId: p.id,
    flowId: CRISIS_FLOW,
    state: session,
    status: session.status === 'ended' ? 'waiting' : session.status,
  });
  const applied = send ? events : events.filter((e) => e.type !== 'msg_created');
  await applyEvents(
    {
      tx: ctx.tx,
      participant: p,
      conversationId: conv.id,
      flowId: CRISIS_FLOW,
      effects: ctx.effects,
      logger: deps.logger,
      kind: 'crisis',
      priority: CRISIS_PRIORITY,
    },
    applied,
  );
  return conv.id;
}

/** Without the crisis flow (a broken deployment), the same message and hand-off, directly. */
async function sendDirect(ctx: RuleContext, deps: RuleDeps, safety: SafetyConfig): Promise<void> {
  const p = ctx.participant;
  const r = render(deps.locales, CRISIS_KEY, safety.contacts, p.preferredLang, deps.defaultLang);
  if (!r.ok) {
    deps.logger.error({ ref: p.ref }, 'crisis safety message missing in every language');
    return;
  }
  const blocked = p.optedOut ? 'opted_out' : p.phone === null ? 'no_number' : undefined;
  const cost = smsCost(r.text);
  const { message } = await insertOutbound(ctx.tx, {
    channel: 'sms',
    participantId: p.id,
    address: p.phone,
    body: r.text,
    encoding: cost.encoding === 'GSM-7' ? 'gsm7' : 'ucs2',
    segments: cost.segments,
    templateKey: CRISIS_KEY,
    kind: 'crisis',
    priority: CRISIS_PRIORITY,
    ...(blocked ? { skipReason: blocked } : {}),
  });
  if (!blocked) ctx.effects.sends.push({ id: message.id, priority: CRISIS_PRIORITY });
}

/**
 * Crisis words, in any shipped language, at any moment: during any flow, during a hand-off, in
 * quiet hours, from someone opted out. The automated conversation stops, the safety message
 * (contacts from config/safety.yaml) goes at once, and an urgent hand-off with reason `crisis`
 * is raised (the Slack side alerts on it). Someone opted out gets no SMS; the escalation still
 * happens and the audit trail says the message could not be sent.
 */
export function crisisRule(deps: RuleDeps): GlobalRule {
  const list = crisisPhrases(deps.locales);
  const lookalikes = crisisLookalikes(deps.locales);
  const safety = deps.safety ?? loadSafetyConfig();
  return async (ctx) => {
    if (!isCrisis(ctx.text, list, lookalikes)) return false;
    const p = ctx.participant;
    const inbound = await currentInbound(ctx);
    const repeat = await recentSafetyMessage(ctx, deps);
    await endConversation(ctx, deps);
    const conversationId = await runCrisisFlow(ctx, deps, safety, !repeat);
    if (conversationId === null) {
      deps.logger.error({ flow: CRISIS_FLOW }, 'crisis flow missing: safety message sent directly');
      if (!repeat) await sendDirect(ctx, deps, safety);
    }
    // Whatever was open (a person already talking, an opt-out notice) becomes urgent and crisis.
    // last_pinged_at = NULL: Slack is told with @here at once (not at the next 10-minute
    // re-ping); urgent_at starts the clock of the duty phone's alert (channels/slack/duty.ts).
    const handoffId = await openHandoff(ctx.tx, ctx.effects, p.id, 'crisis', conversationId);
    await ctx.tx.query(
      `UPDATE handoffs SET urgency = 'urgent', reason = 'crisis', last_pinged_at = NULL,
         urgent_at = now(), conversation_session_id = COALESCE($2, conversation_session_id)
       WHERE id = $1`,
      [handoffId, conversationId],
    );
    const unsent = p.optedOut ? 'opted_out' : p.phone === null ? 'no_number' : null;
    await appendAudit(ctx.tx, {
      participantId: p.id,
      kind: 'crisis_detected',
      actor: 'participant',
      detail: {
        messageId: inbound?.id ?? null,
        handoffId,
        safetyConfigVersion: safety.version,
        sms: repeat ? 'not_repeated' : unsent ? 'not_sent' : 'sent',
        ...(unsent && !repeat ? { smsNotSentBecause: unsent } : {}),
      },
    });
    deps.logger.warn({ ref: p.ref, sms: unsent ?? 'sent' }, 'crisis words: urgent hand-off raised');
    return true;
  };
}
