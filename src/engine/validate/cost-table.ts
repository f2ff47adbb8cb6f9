import type { Flow } from '../flow-schema.js';
import type { LocaleSet } from '../locale-schema.js';
import { renderWorst } from './worst-case.js';

/** Message keys a flow can send (texts and hints), each once, in file order. */
export function flowKeys(flow: Flow): string[] {
  const keys = flow.nodes.flatMap((n) => {
    const own = 'text' in n && typeof n.text === 'string' ? [n.text] : [];
    const hint = n.type === 'ask' && n.on_invalid?.hint ? [n.on_invalid.hint] : [];
    return [...own, ...hint];
  });
  return [...new Set(keys)];
}

export interface FlowCost {
  flow: string;
  lang: string;
  /** Segments of the costliest single message, with worst-case values. */
  max: number;
  /** Segments of every message the flow can send, each once. */
  total: number;
}

/** Worst-case SMS segments per flow per language: what a conversation can cost. */
export function flowCosts(flows: Readonly<Record<string, Flow>>, locales: LocaleSet): FlowCost[] {
  const rows: FlowCost[] = [];
  for (const flow of Object.values(flows).sort((a, b) => a.id.localeCompare(b.id))) {
    const keys = flowKeys(flow);
    for (const lang of Object.keys(locales).sort()) {
      const segments = keys.map((k) => {
        const text = locales[lang]?.messages[k];
        return text === undefined ? 0 : (renderWorst(text, lang)?.cost.segments ?? 0);
      });
      rows.push({
        flow: flow.id,
        lang,
        max: Math.max(0, ...segments),
        total: segments.reduce((a, b) => a + b, 0),
      });
    }
  }
  return rows;
}

/** The cost table as Markdown: one row per flow, one column per language, "max / total". */
export function costTableMarkdown(
  flows: Readonly<Record<string, Flow>>,
  locales: LocaleSet,
): string {
  const langs = Object.keys(locales).sort();
  const costs = flowCosts(flows, locales);
  const head = `| flow | ${langs.join(' | ')} |\n| --- |${langs.map(() => ' --- |').join('')}`;
  const ids = [...new Set(costs.map((c) => c.flow))];
  const body = ids.map((id) => {
    const cells = langs.map((l) => {
      const c = costs.find((x) => x.flow === id && x.lang === l);
      return c ? `${c.max} / ${c.total}` : '-';
    });
    return `| ${id} | ${cells.join(' | ')} |`;
  });
  return [head, ...body].join('\n');
}
