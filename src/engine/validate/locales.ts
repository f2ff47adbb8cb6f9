import { placeholders } from '../i18n.js';
import { NOT_UNDERSTOOD_KEY } from '../nodes/ask.js';
import { checkLocaleLists } from './locale-lists.js';
import {
  type CatalogView,
  type LocaleEntry,
  nodePath,
  type Problem,
  referenceLocale,
} from './types.js';
import { keywordUses, type MessageUse, messageUses } from './uses.js';

/** Placeholder names of a message, or the parser's complaint when it is not valid ICU. */
export function tryPlaceholders(source: string): Set<string> | Error {
  try {
    return placeholders(source);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

const has = (entry: LocaleEntry, key: string): boolean => Object.hasOwn(entry.locale.messages, key);
const list = (names: Iterable<string>): string =>
  [...names].map((n) => `{${n}}`).join(', ') || 'none';

/** A key a flow uses, or the engine's own, missing in a locale: one problem per key and locale. */
function missingMessages(locales: readonly LocaleEntry[], uses: readonly MessageUse[]): Problem[] {
  return locales.flatMap((entry) => {
    const { locale, source } = entry;
    const reported = new Set<string>();
    const problems = uses.flatMap((use) => {
      if (has(entry, use.key) || reported.has(use.key)) return [];
      reported.add(use.key);
      const why = `${use.key} is missing in locale ${locale.lang} (${source.file})`;
      return [use.entry.source.problem(use.path, 'missing_message', why)];
    });
    if (has(entry, NOT_UNDERSTOOD_KEY)) return problems;
    const why = `messages: ${NOT_UNDERSTOOD_KEY} is missing in locale ${locale.lang}; the engine sends it when a reply is not understood`;
    return [...problems, source.problem(['messages'], 'missing_message', why, true)];
  });
}

/** Keys some locale has and another lacks (keys the flows use are reported at the flow). */
function keyParity(locales: readonly LocaleEntry[], uses: readonly MessageUse[]): Problem[] {
  const used = new Set([NOT_UNDERSTOOD_KEY, ...uses.map((u) => u.key)]);
  const all = new Set(locales.flatMap((l) => Object.keys(l.locale.messages)));
  return locales.flatMap((entry) =>
    [...all]
      .filter((key) => !has(entry, key) && !used.has(key))
      .map((key) => {
        const holders = locales.filter((l) => has(l, key)).map((l) => l.locale.lang);
        return entry.source.problem(
          ['messages'],
          'locale_key_missing',
          `messages: ${key} is in ${holders.join(', ')} but missing in locale ${entry.locale.lang}`,
          true,
        );
      }),
  );
}

function icuSyntax(locales: readonly LocaleEntry[]): Problem[] {
  return locales.flatMap(({ locale, source }) =>
    Object.entries(locale.messages).flatMap(([key, text]) => {
      const parsed = tryPlaceholders(text);
      if (!(parsed instanceof Error)) return [];
      const at = (parsed as { location?: { start?: { offset?: number } } }).location?.start?.offset;
      const where =
        at === undefined
          ? ''
          : ` near ${JSON.stringify(text.slice(Math.max(0, at - 10), at + 10))}`;
      const why = `messages.${key}: not a valid ICU message in ${locale.lang} (${parsed.message}${where})`;
      return [source.problem(['messages', key], 'icu_syntax', why, true)];
    }),
  );
}

/** Every locale's placeholders for a key match the reference locale's (English, when shipped). */
function placeholderParity(locales: readonly LocaleEntry[]): Problem[] {
  const ref = referenceLocale(locales);
  const keys = new Set(locales.flatMap((l) => Object.keys(l.locale.messages)));
  return [...keys].flatMap((key) => {
    const base = ref && has(ref, key) ? ref : locales.find((l) => has(l, key));
    const want = base ? tryPlaceholders(base.locale.messages[key] ?? '') : undefined;
    if (!base || !(want instanceof Set)) return [];
    return locales.flatMap((entry) => {
      const got = entry === base ? want : tryPlaceholders(entry.locale.messages[key] ?? '');
      if (!has(entry, key) || !(got instanceof Set)) return [];
      const same = got.size === want.size && [...got].every((n) => want.has(n));
      if (same) return [];
      const why = `messages.${key}: placeholders ${list(got)} in ${entry.locale.lang} differ from ${list(want)} in ${base.locale.lang}`;
      return [entry.source.problem(['messages', key], 'placeholder_mismatch', why, true)];
    });
  });
}

/** Placeholders a message needs that the node's vars do not provide (in any locale). */
function missingVars(locales: readonly LocaleEntry[], uses: readonly MessageUse[]): Problem[] {
  return uses.flatMap((use) => {
    const needed = new Map<string, string>();
    for (const entry of locales) {
      const names = tryPlaceholders(entry.locale.messages[use.key] ?? '');
      if (!(names instanceof Set)) continue;
      for (const n of names)
        if (!use.provided.has(n) && !needed.has(n)) needed.set(n, entry.locale.lang);
    }
    const hint = use.path.includes('on_invalid');
    const at =
      !hint && 'vars' in use.node && use.node.vars ? nodePath(use.index, 'vars') : use.path;
    return [...needed].map(([name, lang]) =>
      use.entry.source.problem(
        at,
        'missing_var',
        hint
          ? `${use.key} uses {${name}} (in ${lang}), but a hint is sent with no variables`
          : `${use.key} uses {${name}} (in ${lang}), but node "${use.node.id}" has no vars.${name}`,
      ),
    );
  });
}

/** The engine sends common.not_understood with no variables. */
function engineKeyVars(locales: readonly LocaleEntry[]): Problem[] {
  return locales.flatMap(({ locale, source }) => {
    const names = tryPlaceholders(locale.messages[NOT_UNDERSTOOD_KEY] ?? '');
    if (!(names instanceof Set) || names.size === 0) return [];
    const why = `messages.${NOT_UNDERSTOOD_KEY}: uses ${list(names)}, but the engine sends it with no variables`;
    return [source.problem(['messages', NOT_UNDERSTOOD_KEY], 'missing_var', why, true)];
  });
}

function languageTags(locales: readonly LocaleEntry[]): Problem[] {
  return locales.flatMap(({ locale, source }) => {
    try {
      Intl.getCanonicalLocales(locale.lang);
      return [];
    } catch {
      const why = `the file name "${locale.lang}" is not a language tag such as en, cy or pl`;
      return [source.problem([], 'invalid_lang', why)];
    }
  });
}

/** Every locale carries every message, placeholder and keyword list the flows and engine use. */
export function checkLocales(view: CatalogView): Problem[] {
  const uses = messageUses(view.flows);
  const locales = view.locales;
  return [
    ...languageTags(locales),
    ...missingMessages(locales, uses),
    ...keyParity(locales, uses),
    ...icuSyntax(locales),
    ...placeholderParity(locales),
    ...missingVars(locales, uses),
    ...engineKeyVars(locales),
    ...checkLocaleLists(locales, keywordUses(view.flows)),
  ];
}
