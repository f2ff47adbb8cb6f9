import { distance } from 'fastest-levenshtein';
import type { Locale } from './locale-schema.js';
import { asciiDigits, normalize, normalizedPhrase, phraseTokens, tokens } from './text.js';

/** The outcome of reading a reply. Ambiguous replies are never guessed. */
export type ReplyMatch =
  | { kind: 'match'; value: string | number }
  | { kind: 'skip' }
  | { kind: 'ambiguous' }
  | { kind: 'none' };

/** Words of at least this length tolerate one wrong, missing or extra letter. */
const FUZZY_MIN_LENGTH = 5;

/** Two neighbouring letters swapped ("lonley" for "lonely") is one typo, not two edits. */
function isOneSwap(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const diff: number[] = [];
  for (let i = 0; i < a.length && diff.length <= 2; i++) if (a[i] !== b[i]) diff.push(i);
  const [i, j] = diff;
  return diff.length === 2 && i !== undefined && j === i + 1 && a[i] === b[j] && a[j] === b[i];
}

function wordMatches(word: string, keyword: string): boolean {
  if (word === keyword) return true;
  if (keyword.length < FUZZY_MIN_LENGTH || word.length < FUZZY_MIN_LENGTH - 1) return false;
  return distance(word, keyword) <= 1 || isOneSwap(word, keyword);
}

/** True when the keyword phrase appears in the reply as whole words (typo-tolerant). */
export function containsPhrase(replyTokens: string[], phrase: string): boolean {
  const want = phraseTokens(phrase);
  if (want.length === 0 || want.length > replyTokens.length) return false;
  for (let i = 0; i + want.length <= replyTokens.length; i++) {
    if (want.every((w, j) => wordMatches(replyTokens[i + j] ?? '', w))) return true;
  }
  return false;
}

function matchesList(replyTokens: string[], list: readonly string[] | undefined): boolean {
  return (list ?? []).some((phrase) => containsPhrase(replyTokens, phrase));
}

/** The whole reply is one of the list's phrases (for skip, where a partial match is risky). */
function isExactly(normalized: string, list: readonly string[] | undefined): boolean {
  return (list ?? []).some((phrase) => normalizedPhrase(phrase) === normalized);
}

/**
 * A Latin word with a digit inside it is Arabizi (Arabic in Latin letters, digits for sounds:
 * "sab3a" seven, "tis3a" nine, "la2" no, "3ashara" ten), not a number: read as a word, never as
 * its digit. Digits before an ordinal or clock suffix ("1st", "10am") stay numbers.
 */
const ARABIZI_WORD =
  /\p{Script=Latin}+\d[\p{Script=Latin}\d]*|\d+(?!(?:st|nd|rd|th|am|pm)(?!\p{Script=Latin}))\p{Script=Latin}[\p{Script=Latin}\d]*/giu;

/**
 * The distinct numbers in a reply, from digits ("7", "7/10") anywhere, or the locale's number
 * words in a short reply only ("seven" yes; "no one to talk to" is not option 1).
 */
export function numbersIn(text: string, locales: readonly Locale[], maxWordTokens = 3): number[] {
  const words: string[] = [];
  const digits = asciiDigits(text)
    .replace(ARABIZI_WORD, (word) => {
      words.push(word);
      return ' ';
    })
    .replace(/(\d+)\s*\/\s*\d+/g, '$1')
    .replace(/(\d+)\s+out\s+of\s+\d+/gi, '$1');
  if (/\d[.,]\d/.test(digits)) return [Number.NaN];
  const found = new Set<number>();
  for (const m of digits.matchAll(/\d+/g)) found.add(Number(m[0]));
  const replyTokens = tokens(normalize(`${digits.replace(/\d+/g, ' ')} ${words.join(' ')}`));
  if (replyTokens.length > maxWordTokens) return [...found];
  for (const locale of locales) {
    for (const [value, words] of Object.entries(locale.numbers)) {
      if (matchesList(replyTokens, words)) found.add(Number(value));
    }
  }
  return [...found];
}

function decide(candidates: Set<string | number>): ReplyMatch {
  if (candidates.size === 1) return { kind: 'match', value: [...candidates][0] as string | number };
  return candidates.size > 1 ? { kind: 'ambiguous' } : { kind: 'none' };
}

/**
 * Reads a reply against numbered options. Each option matches its number and its keywords;
 * a reply that points at two options is ambiguous.
 */
export function matchChoice(
  text: string,
  options: readonly { value: string; keywords?: string | undefined }[],
  locales: readonly Locale[],
): ReplyMatch {
  const replyTokens = tokens(normalize(text));
  const candidates = new Set<string | number>();
  for (const n of numbersIn(text, locales, 2)) {
    const option = options[n - 1];
    if (option) candidates.add(option.value);
    else return { kind: 'none' };
  }
  for (const option of options) {
    if (!option.keywords) continue;
    if (locales.some((l) => matchesList(replyTokens, l.keywords[option.keywords ?? '']))) {
      candidates.add(option.value);
    }
  }
  return decide(candidates);
}

export function matchYesNo(text: string, locales: readonly Locale[]): ReplyMatch {
  const replyTokens = tokens(normalize(text));
  const candidates = new Set<string | number>();
  if (locales.some((l) => matchesList(replyTokens, l.keywords.yes))) candidates.add('yes');
  if (locales.some((l) => matchesList(replyTokens, l.keywords.no))) candidates.add('no');
  return decide(candidates);
}

export function matchNumber(text: string, locales: readonly Locale[]): ReplyMatch {
  const found = numbersIn(text, locales, 5);
  if (found.some((n) => Number.isNaN(n))) return { kind: 'none' };
  return decide(new Set(found));
}

export function isSkip(text: string, locales: readonly Locale[]): boolean {
  const normalized = normalize(text);
  return locales.some((l) => isExactly(normalized, l.keywords.skip));
}

/**
 * Try the participant's language first; only when it reads nothing, the fallbacks (many people
 * answer in English whatever their language).
 */
export function firstReading(
  read: (locales: readonly Locale[]) => ReplyMatch,
  primary: readonly Locale[],
  fallback: readonly Locale[],
): ReplyMatch {
  const result = read(primary);
  if (result.kind !== 'none' || fallback.length === 0) return result;
  return read(fallback);
}
