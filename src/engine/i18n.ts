import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import type { LocaleSet } from './locale-schema.js';

export type RenderResult =
  | { ok: true; text: string; lang: string; errors: { code: string; detail: string }[] }
  | { ok: false; errors: { code: string; detail: string }[] };

const cache = new Map<string, IntlMessageFormat>();

function formatter(lang: string, source: string): IntlMessageFormat {
  const cacheKey = `${lang}\u0000${source}`;
  let f = cache.get(cacheKey);
  if (!f) {
    f = new IntlMessageFormat(source, lang);
    cache.set(cacheKey, f);
  }
  return f;
}

/** The languages to try, in order: the participant's, the service default, then English. */
export function fallbackChain(lang: string, defaultLang: string): string[] {
  return [...new Set([lang, defaultLang, 'en'])];
}

/** Placeholder names used by an ICU message, including inside plural/select branches. */
export function placeholders(source: string): Set<string> {
  const names = new Set<string>();
  const walk = (elements: MessageFormatElement[]): void => {
    for (const el of elements) {
      if (el.type === TYPE.literal || el.type === TYPE.pound) continue;
      names.add(el.value);
      if (el.type === TYPE.plural || el.type === TYPE.select) {
        for (const opt of Object.values(el.options)) walk(opt.value);
      }
      if (el.type === TYPE.tag) walk(el.children);
    }
  };
  walk(parse(source, { ignoreTag: true }));
  return names;
}

/**
 * Renders a message key with fallback. Falling back, or a missing variable, is an error the flow
 * survives (reported, never a blank message); a key missing in every language is not.
 */
export function render(
  locales: LocaleSet,
  key: string,
  values: Record<string, string | number>,
  lang: string,
  defaultLang: string,
): RenderResult {
  const errors: { code: string; detail: string }[] = [];
  for (const candidate of fallbackChain(lang, defaultLang)) {
    const source = locales[candidate]?.messages[key];
    if (source === undefined) {
      errors.push({ code: 'missing_translation', detail: `${key} has no ${candidate} text` });
      continue;
    }
    try {
      const filled: Record<string, string | number> = { ...values };
      for (const name of placeholders(source)) {
        if (filled[name] === undefined) {
          errors.push({ code: 'missing_variable', detail: `${key} needs {${name}}` });
          filled[name] = '';
        }
      }
      const text = String(formatter(candidate, source).format(filled)).trim();
      if (text.length > 0) return { ok: true, text, lang: candidate, errors };
      errors.push({ code: 'empty_message', detail: `${key} rendered empty in ${candidate}` });
    } catch (err) {
      errors.push({
        code: 'format_error',
        detail: `${key} (${candidate}): ${(err as Error).message}`,
      });
    }
  }
  return { ok: false, errors };
}
