import type { LocaleSet } from '../../engine/index.js';
import { containsPhrase } from '../../engine/reply.js';
import { normalize, normalizedPhrase, phraseTokens, tokens } from '../../engine/text.js';

/** Twilio's default opt-out keywords: they block the sender at the carrier as well. */
export const TWILIO_STOP = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
] as const;
export const TWILIO_START = ['START', 'YES', 'UNSTOP'] as const;
export const TWILIO_HELP = ['HELP', 'INFO'] as const;

/** Global keyword lists a locale may carry (the rules read every shipped locale's lists). */
export type RuleList =
  | 'stop'
  | 'start'
  | 'help'
  | 'stop_soft'
  | 'language'
  | 'language_name'
  | 'human'
  | 'crisis'
  | 'crisis_lookalike';

/** A list's phrases across every shipped locale, plus built-in ones. */
export function phrases(
  locales: LocaleSet,
  list: RuleList,
  builtIn: readonly string[] = [],
): string[] {
  const all = [...builtIn, ...Object.values(locales).flatMap((l) => l.keywords[list] ?? [])];
  return [...new Set(all)];
}

/** The whole message is one of the phrases, ignoring case, accents, punctuation and spacing. */
export function isWhole(text: string, list: readonly string[]): boolean {
  const said = normalize(text);
  return said !== '' && list.some((phrase) => normalizedPhrase(phrase) === said);
}

/**
 * The message is a one-word phrase on its own, or contains a phrase of two or more words
 * (typo-tolerant): "person" alone, or "can I talk to someone please".
 */
export function mentions(text: string, list: readonly string[]): boolean {
  const said = normalize(text);
  if (said === '') return false;
  const words = tokens(said);
  return list.some((phrase) => {
    const want = phraseTokens(phrase);
    return want.length >= 2 ? containsPhrase(words, phrase) : want.join(' ') === said;
  });
}
