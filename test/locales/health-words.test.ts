import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { normalize } from '../../src/engine/text.js';

/** Keys exempt from the lock-screen rule, and why. */
const EXEMPT: Record<string, string> = {
  'crisis.safety': 'sent only to someone who has just written crisis words; safety comes first',
};

const lists = z
  .record(z.string(), z.array(z.string().min(2)))
  .parse(parse(readFileSync('test/fixtures/health-words.yaml', 'utf8')));

/** The word starts found in a text: English everywhere, plus the text's own language. */
function healthWords(text: string, lang: string): string[] {
  const said = ` ${normalize(text)}`;
  const words = [...(lists.en ?? []), ...(lang === 'en' ? [] : (lists[lang] ?? []))];
  return words.filter((w) => said.includes(` ${normalize(w)}`));
}

describe('no health or condition words in any message (lock screens)', async () => {
  const catalog = await loadCheckedCatalog('flows', 'locales');

  it('finds a condition word when there is one (the check can fail)', () => {
    expect(healthWords('Your depression group is tomorrow', 'en')).toEqual(['depression']);
    expect(healthWords('Grupa dla osób z demencją', 'pl')).toEqual(['demencj']);
    expect(healthWords('See you at the walking group', 'en')).toEqual([]);
  });

  for (const [lang, locale] of Object.entries(catalog.locales)) {
    it(`${lang}: every message is free of them`, () => {
      const found = Object.entries(locale.messages)
        .filter(([key]) => !(key in EXEMPT))
        .flatMap(([key, text]) => healthWords(text, lang).map((w) => `${key}: ${w}`));
      expect(found).toEqual([]);
    });
  }
});
