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

/**
 * A reply word matches a keyword word exactly, or with one typo when both are long enough.
 * `exactOnly` words (normalised) never match by typo: real words one letter from a keyword
 * (Arabic انتظار "waiting" beside انتحار).
 */
function wordMatches(
  word: string,
  keyword: string,
  exactOnly?: ReadonlySet<string>,
): 'exact' | 'fuzzy' | false {
  if (word === keyword) return 'exact';
  if (keyword.length < FUZZY_MIN_LENGTH || word.length < FUZZY_MIN_LENGTH - 1) return false;
  if (exactOnly?.has(word)) return false;
  return distance(word, keyword) <= 1 || isOneSwap(word, keyword) ? 'fuzzy' : false;
}

/** How the phrase appears in the reply as whole words: exactly, only with a typo, or not. */
function phraseMatch(
  replyTokens: string[],
  phrase: string,
  exactOnly?: ReadonlySet<string>,
): 'exact' | 'fuzzy' | false {
  const want = phraseTokens(phrase);
  if (want.length === 0 || want.length > replyTokens.length) return false;
  let best: 'exact' | 'fuzzy' | false = false;
  for (let i = 0; i + want.length <= replyTokens.length; i++) {
    const words = want.map((w, j) => wordMatches(replyTokens[i + j] ?? '', w, exactOnly));
    if (words.every((m) => m === 'exact')) return 'exact';
    if (words.every((m) => m !== false)) best = 'fuzzy';
  }
  return best;
}

/**
 * True when the keyword phrase appears in the reply as whole words (typo-tolerant, except for
 * the reply words in `exactOnly`).
 */
export function containsPhrase(
  replyTokens: string[],
  phrase: string,
  exactOnly?: ReadonlySet<string>,
): boolean {
  return phraseMatch(replyTokens, phrase, exactOnly) !== false;
}

function matchesList(replyTokens: string[], list: readonly string[] | undefined): boolean {
  return (list ?? []).some((phrase) => containsPhrase(replyTokens, phrase));
}

/** The best way any phrase of the list appears in the reply: exactly, by typo, or not. */
function listMatch(
  replyTokens: string[],
  list: readonly string[] | undefined,
): 'exact' | 'fuzzy' | false {
  let best: 'exact' | 'fuzzy' | false = false;
  for (const phrase of list ?? []) {
    const m = phraseMatch(replyTokens, phrase);
    if (m === 'exact') return m;
    if (m) best = m;
  }
  return best;
}

/**
 * "7 out of 10", "seven out of ten", "siedem na dziesięć": the reply without a trailing
 * "out of ten" in any of the locales' words (`keywords.out_of` before "10" or the locale's
 * words for ten), so the ten is not read as a second number. The reply is unchanged otherwise.
 */
function withoutOutOfTen(text: string, locales: readonly Locale[]): string {
  const said = tokens(normalize(text));
  for (const locale of locales) {
    const tens = ['10', ...(locale.numbers['10'] ?? [])];
    for (const sep of locale.keywords.out_of ?? []) {
      for (const ten of tens) {
        const tail = tokens(normalize(`${sep} ${ten}`));
        const at = said.length - tail.length;
        if (at < 1) continue;
        if (tail.every((w, j) => wordMatches(said[at + j] ?? '', w))) {
          return said.slice(0, at).join(' ');
        }
      }
    }
  }
  return text;
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
export function numbersIn(reply: string, locales: readonly Locale[], maxWordTokens = 3): number[] {
  const text = withoutOutOfTen(reply, locales);
  if (text !== reply && /\d[.,]\d/.test(asciiDigits(reply))) return [Number.NaN];
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
 * a reply that points at two options is ambiguous. An exact keyword (or a number) beats a
 * keyword matched only by a typo: "purana phone" is a basic phone, not a typo of "iphone".
 */
export function matchChoice(
  text: string,
  options: readonly { value: string; keywords?: string | undefined }[],
  locales: readonly Locale[],
): ReplyMatch {
  const replyTokens = tokens(normalize(text));
  const candidates = new Set<string | number>();
  const byTypo = new Set<string | number>();
  for (const n of numbersIn(text, locales, 2)) {
    const option = options[n - 1];
    if (option) candidates.add(option.value);
    else return { kind: 'none' };
  }
  for (const option of options) {
    if (!option.keywords) continue;
    const found = locales.map((l) => listMatch(replyTokens, l.keywords[option.keywords ?? '']));
    if (found.includes('exact')) candidates.add(option.value);
    else if (found.includes('fuzzy')) byTypo.add(option.value);
  }
  return decide(candidates.size > 0 ? candidates : byTypo);
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
