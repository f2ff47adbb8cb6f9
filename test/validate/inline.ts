import { type Problem, parseFlowSource, parseLocaleSource } from '../../src/engine/index.js';
import type { CatalogView, FlowEntry, LocaleEntry } from '../../src/engine/validate/index.js';

/** A flow file around one-line nodes: node i sits on line 5 + i (6 + i with a header line). */
export function flowYaml(nodes: string[], { id = 'f', header = '' } = {}): string {
  return `version: 1\nid: ${id}\nname: F\n${header}nodes:\n${nodes.map((n) => `  - ${n}\n`).join('')}`;
}

export function flowEntry(text: string, file = 'f.yaml'): FlowEntry {
  const { flow, source, problems } = parseFlowSource(text, file);
  if (!flow) throw new Error(problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  return { flow, source };
}

const NUMBERS = Array.from({ length: 11 }, (_, n) => `"${n}": [n${n}]`).join(', ');

/** A locale file: messages one per line from line 3, keywords and numbers after them. */
export function localeYaml(
  messages: Record<string, string>,
  { keywords = '{ yes: [yes], no: [no], skip: [skip] }', numbers = `{ ${NUMBERS} }` } = {},
): string {
  const lines = Object.entries(messages).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}\n`);
  return `meta: { name: X, native: X, reviewed: false }\nmessages:\n${lines.join('')}keywords: ${keywords}\nnumbers: ${numbers}\n`;
}

export function localeEntry(lang: string, text: string): LocaleEntry {
  const file = `${lang}.yaml`;
  const { locale, source, problems } = parseLocaleSource(text, file, lang);
  if (!locale)
    throw new Error(problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n'));
  return { locale, source };
}

export function view(flows: FlowEntry[], locales: LocaleEntry[] = []): CatalogView {
  return { flows, locales };
}

/** Problems as `file:line:column code`, the way a test can compare them. */
export function located(problems: readonly Problem[]): string[] {
  return problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.code}`);
}

/** `file:line:column` of the first occurrence of `needle` in `text` (after `from`, if given). */
export function pos(file: string, text: string, needle: string, from = ''): string {
  const offset = text.indexOf(needle, from ? text.indexOf(from) : 0);
  if (offset < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, offset).split('\n');
  return `${file}:${before.length}:${(before.at(-1)?.length ?? 0) + 1}`;
}
