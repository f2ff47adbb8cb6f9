import { requiredKeywordLists } from '../locale-schema.js';
import type { LocaleEntry, Problem } from './types.js';
import type { KeywordUse } from './uses.js';

/** Number words every locale needs, so "seven" answers a 0-10 question in any language. */
export const REQUIRED_NUMBERS = Array.from({ length: 11 }, (_, n) => String(n));

function requiredLists({ locale, source }: LocaleEntry): Problem[] {
  return requiredKeywordLists
    .filter((list) => !Object.hasOwn(locale.keywords, list))
    .map((list) =>
      source.problem(
        ['keywords'],
        'missing_keywords',
        `keywords: the "${list}" list is missing in locale ${locale.lang}; every locale needs ${requiredKeywordLists.join(', ')}`,
        true,
      ),
    );
}

function usedLists({ locale, source }: LocaleEntry, uses: readonly KeywordUse[]): Problem[] {
  const reported = new Set<string>();
  return uses.flatMap((use) => {
    if (Object.hasOwn(locale.keywords, use.list) || reported.has(use.list)) return [];
    reported.add(use.list);
    return [
      use.entry.source.problem(
        use.path,
        'missing_keywords',
        `keyword list "${use.list}" is missing in locale ${locale.lang} (${source.file})`,
      ),
    ];
  });
}

function numbers({ locale, source }: LocaleEntry): Problem[] {
  const missing = REQUIRED_NUMBERS.filter((n) => !Object.hasOwn(locale.numbers, n));
  if (missing.length === 0) return [];
  return [
    source.problem(
      ['numbers'],
      'missing_numbers',
      `numbers: locale ${locale.lang} has no words for ${missing.join(', ')}; every locale needs 0 to 10`,
      true,
    ),
  ];
}

/** Keyword lists and number words: what replies are read against, in every locale. */
export function checkLocaleLists(
  locales: readonly LocaleEntry[],
  uses: readonly KeywordUse[],
): Problem[] {
  return locales.flatMap((entry) => [
    ...requiredLists(entry),
    ...usedLists(entry, uses),
    ...numbers(entry),
  ]);
}
