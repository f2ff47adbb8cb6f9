import type { Locale, Session } from '../../engine/index.js';
import { normalize, normalizedPhrase } from '../../engine/text.js';
import { appendAudit } from '../../store/repos/audit.js';
import type { ConversationSession } from '../../store/repos/conversation-sessions.js';
import { saveSession } from '../../store/repos/conversation-sessions.js';
import { updateParticipant } from '../../store/repos/participants.js';
import type { GlobalRule, RuleContext } from '../runner.js';
import { reply, text } from './actions.js';
import type { RuleDeps } from './deps.js';
import { isWhole, phrases } from './keywords.js';

/** What people type for a locale's language: its English and native names, and its list. */
function namesOf(locale: Locale): string[] {
  return [locale.meta.name, locale.meta.native, ...(locale.keywords.language_name ?? [])];
}

/** The shipped language a message names: "polski", "Polish", or "LANGUAGE polski". */
export function chosenLanguage(
  message: string,
  locales: readonly Locale[],
  menuWords: readonly string[],
): string | null {
  // Normalised once: the message, then each phrase through the phrase memo (this ran for every
  // text and was a worker's largest text-matching cost on the conversation benchmark).
  const said = normalize(message);
  if (said === '') return null;
  const candidates = [said];
  for (const word of menuWords.map(normalizedPhrase)) {
    if (said.startsWith(`${word} `)) candidates.push(said.slice(word.length + 1));
  }
  for (const locale of locales) {
    const names = namesOf(locale).map(normalizedPhrase);
    if (candidates.some((c) => names.includes(c))) return locale.lang;
  }
  return null;
}

/** The waiting question again, in the new language, when it needs no variables. */
function questionAgain(
  deps: RuleDeps,
  conv: ConversationSession<Session> | null,
  lang: string,
): string | undefined {
  if (conv?.status !== 'waiting' || conv.state.wait?.kind !== 'reply') return undefined;
  const node = deps.flows?.[conv.state.flow_id]?.nodes.find((n) => n.id === conv.state.node);
  if (node?.type !== 'ask' || Object.keys(node.vars ?? {}).length > 0) return undefined;
  return text(deps, node.text, lang) ?? undefined;
}

async function switchConversation(
  ctx: RuleContext,
  conv: ConversationSession<Session>,
  lang: string,
): Promise<void> {
  const state: Session = {
    ...conv.state,
    lang,
    context: {
      ...conv.state.context,
      participant: { ...conv.state.context.participant, preferred_lang: lang },
    },
  };
  const saved = await saveSession(ctx.tx, {
    id: conv.id,
    expectedVersion: conv.version,
    state,
    status: conv.status,
  });
  if (!saved) throw new Error('conversation changed under the participant lock');
}

async function setLanguage(ctx: RuleContext, deps: RuleDeps, lang: string): Promise<void> {
  const from = ctx.participant.preferredLang;
  if (from !== lang) {
    await updateParticipant(ctx.tx, ctx.participant.id, { preferredLang: lang });
    await appendAudit(ctx.tx, {
      participantId: ctx.participant.id,
      kind: 'language_changed',
      actor: 'participant',
      detail: { from, to: lang },
    });
  }
  const conv = ctx.conversation;
  if (conv && conv.status !== 'ended' && conv.state.lang !== lang)
    await switchConversation(ctx, conv, lang);
  const again = questionAgain(deps, conv, lang);
  await reply(ctx, deps, 'global.language_set', { lang, ...(again ? { extra: again } : {}) });
}

/**
 * A message that is just a shipped language's name switches to it (and the conversation
 * with it); LANGUAGE alone lists the shipped languages by their own names, and the next
 * reply is read by this same rule.
 */
export function languageRule(deps: RuleDeps): GlobalRule {
  const menuWords = phrases(deps.locales, 'language');
  const locales = Object.values(deps.locales);
  const menu = locales.map((l) => l.meta.native).join(', ');
  return async (ctx) => {
    const lang = chosenLanguage(ctx.text, locales, menuWords);
    if (lang) {
      await setLanguage(ctx, deps, lang);
      return true;
    }
    if (!isWhole(ctx.text, menuWords)) return false;
    await reply(ctx, deps, 'global.language_menu', { values: { languages: menu } });
    return true;
  };
}
