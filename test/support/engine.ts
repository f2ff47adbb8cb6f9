import { DateTime } from 'luxon';
import { parse } from 'yaml';
import type { Env, Flow, Locale, LocaleSet } from '../../src/engine/index.js';
import { parseFlowSource } from '../../src/engine/index.js';

/** Parses an inline flow; fails the test loudly if the YAML is not a valid flow. */
export function flow(yaml: string): Flow {
  const { flow: parsed, problems } = parseFlowSource(yaml, 'inline.yaml');
  if (!parsed)
    throw new Error(problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  return parsed;
}

const baseKeywords = {
  yes: ['yes', 'y', '👍'],
  no: ['no', 'n'],
  skip: ['skip'],
};

export function locale(
  lang: string,
  messages: Record<string, string>,
  extra: Partial<Locale> = {},
): Locale {
  return {
    lang,
    meta: { name: lang, native: lang, reviewed: false, dir: 'ltr' },
    messages: { 'common.not_understood': `[${lang}] not understood`, ...messages },
    keywords: { ...baseKeywords, ...(extra.keywords ?? {}) },
    numbers: extra.numbers ?? { '1': ['one'], '2': ['two'], '7': ['seven'], '10': ['ten'] },
  };
}

/** A deterministic env: fixed clock in Europe/London, counter ids. */
export function env(flows: Flow[], locales: LocaleSet, over: Partial<Env> = {}): Env {
  let n = 0;
  return {
    now: DateTime.fromISO('2026-11-24T10:00:00', { zone: 'Europe/London' }),
    newId: () => `id-${++n}`,
    flows: Object.fromEntries(flows.map((f) => [f.id, f])),
    locales,
    defaultLang: 'en',
    ...over,
  };
}

export function yamlLocale(lang: string, text: string): Locale {
  return { lang, ...(parse(text) as Omit<Locale, 'lang'>) };
}

export const participant = { tags: [] as string[], fields: {} as Record<string, unknown> };
