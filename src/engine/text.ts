/** Text normalisation for reply matching: case, Latin accents, punctuation and spacing. */
import { memoize } from './memo.js';

/** Zero code points of the decimal digit blocks participants' phones produce. */
const DIGIT_ZEROS = [0x30, 0x660, 0x6f0, 0x966, 0x9e6, 0xa66, 0xae6, 0xff10];

/** Maps any supported decimal digit to ASCII, e.g. Arabic-Indic ٧ -> 7, Bengali ৭ -> 7. */
export function asciiDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (ch) => {
    const cp = ch.codePointAt(0) ?? 0;
    for (const zero of DIGIT_ZEROS) {
      if (cp >= zero && cp <= zero + 9) return String(cp - zero);
    }
    return ch;
  });
}

/**
 * Lower case, Latin diacritics removed (ŵ -> w, ą -> a; marks in other scripts are letters and
 * stay), curly quotes straightened, punctuation to spaces, spaces collapsed. Emoji are kept:
 * a thumbs up is an answer.
 */
export function normalize(text: string): string {
  const lowered = asciiDigits(text)
    .normalize('NFKD')
    .replace(/(\p{Script=Latin})\p{M}+/gu, '$1')
    .normalize('NFC')
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc]/g, "'")
    .replace(/\u0142/g, 'l');
  return lowered
    .replace(/\p{Emoji_Modifier}|\uFE0F/gu, '')
    .replace(/'/g, '')
    .replace(/(?!\p{Extended_Pictographic})[\p{P}\p{S}]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
}

/** Tokens of a normalised text; emoji are separate tokens. */
export function tokens(normalized: string): string[] {
  return normalized
    .replace(/(\p{Extended_Pictographic})/gu, ' $1 ')
    .split(' ')
    .filter((t) => t.length > 0);
}

/** Phrase lists come from the catalog: a bounded set, normalised once, not per message. */
const PHRASE_CACHE_MAX = 20_000;

/**
 * `normalize(phrase)` for a keyword phrase, memoised: the global rules test every shipped
 * locale's lists against each message, which made normalising the phrases the runner's
 * largest CPU cost in the SMS benchmark.
 */
export const normalizedPhrase: (phrase: string) => string = memoize(normalize, PHRASE_CACHE_MAX);

/** `tokens(normalize(phrase))` for a keyword phrase, memoised (see `normalizedPhrase`). */
export const phraseTokens: (phrase: string) => readonly string[] = memoize(
  (phrase: string) => Object.freeze(tokens(normalize(phrase))),
  PHRASE_CACHE_MAX,
);
