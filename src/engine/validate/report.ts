import type { Flow, FlowNode } from '../flow-schema.js';
import { NOT_UNDERSTOOD_KEY } from '../nodes/ask.js';
import { type SmsEncoding, smsCost } from '../sms.js';
import {
  type CatalogView,
  type FlowEntry,
  type LocaleEntry,
  nodeIndex,
  type Problem,
} from './types.js';
import { messageUses } from './uses.js';
import { renderWorst } from './worst-case.js';

/** Worst-case cost of one message (kind message) or of one turn's joined SMS (kind turn). */
export interface CostRow {
  kind: 'message' | 'turn';
  lang: string;
  /** A message key, or `flow:node` for a turn starting at that node. */
  key: string;
  encoding: SmsEncoding;
  segments: number;
  /** What the carrier counts: GSM-7 septets or UTF-16 code units. */
  chars: number;
}

export interface CostReport {
  rows: CostRow[];
  problems: Problem[];
}

/** The texts of one turn: the engine joins them into one SMS with "\n". */
interface Turn {
  entry: FlowEntry;
  index: number;
  name: string;
  keys: string[];
}

const byLang = (a: LocaleEntry, b: LocaleEntry): number =>
  a.locale.lang.localeCompare(b.locale.lang);

/** Per key, the largest budget a flow using it allows (never below the default). */
function budgets(view: CatalogView, budget: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const use of messageUses(view.flows)) {
    const allowed = Math.max(budget, use.entry.flow.segment_budget?.max ?? 0);
    out.set(use.key, Math.max(out.get(use.key) ?? budget, allowed));
  }
  return out;
}

function overBudget(row: CostRow, limit: number): string {
  return `${row.segments} SMS segments in ${row.lang} (${row.encoding}, ${row.chars} characters with worst-case values); the budget is ${limit}: shorten it, or give the flow that uses it a segment_budget with a reason`;
}

function messageRows(entry: LocaleEntry, limits: Map<string, number>, budget: number): CostReport {
  const { locale, source } = entry;
  const report: CostReport = { rows: [], problems: [] };
  for (const [key, text] of Object.entries(locale.messages)) {
    const worst = renderWorst(text, locale.lang);
    if (!worst) continue;
    const { encoding, segments, units } = worst.cost;
    const row: CostRow = {
      kind: 'message',
      lang: locale.lang,
      key,
      encoding,
      segments,
      chars: units,
    };
    report.rows.push(row);
    const limit = limits.get(key) ?? budget;
    if (segments > limit) {
      const why = `messages.${key} is ${overBudget(row, limit)}`;
      report.problems.push(source.problem(['messages', key], 'over_budget', why, true));
    }
  }
  return report;
}

/** The says (with silent set/record between) from `start` up to an ask or handoff with text. */
function chain(
  start: Extract<FlowNode, { type: 'say' }>,
  flow: Flow,
): { keys: string[]; says: string[] } {
  const ids = nodeIndex(flow);
  const found = { keys: [start.text], says: [start.id] };
  const seen = new Set([start.id]);
  for (let id = start.next; id !== undefined && !seen.has(id); ) {
    seen.add(id);
    const node = ids.get(id)?.node;
    if (node?.type === 'say') {
      found.keys.push(node.text);
      found.says.push(node.id);
    } else if (node?.type !== 'set' && node?.type !== 'record') {
      if ((node?.type === 'ask' || node?.type === 'handoff') && node.text)
        found.keys.push(node.text);
      break;
    }
    id = node.next;
  }
  return found;
}

/** Turns worth costing: say chains of two or more texts, and an ask's retry without a hint. */
function turns(entry: FlowEntry): Turn[] {
  const { flow } = entry;
  const says = flow.nodes.flatMap((node, index) =>
    node.type === 'say' ? [{ index, id: node.id, ...chain(node, flow) }] : [],
  );
  // A say inside another say's chain is part of that turn, not the start of its own.
  const inner = new Set(says.flatMap((c) => c.says.slice(1)));
  const chains = says
    .filter((c) => c.keys.length > 1 && !inner.has(c.id))
    .map((c) => ({ entry, index: c.index, name: `${flow.id}:${c.id}`, keys: c.keys }));
  const retries = flow.nodes.flatMap((node, index) =>
    node.type === 'ask' && node.on_invalid?.hint === undefined
      ? [
          {
            entry,
            index,
            name: `${flow.id}:${node.id}:retry`,
            keys: [NOT_UNDERSTOOD_KEY, node.text],
          },
        ]
      : [],
  );
  return [...chains, ...retries];
}

function turnRows(turn: Turn, locales: readonly LocaleEntry[], budget: number): CostReport {
  const report: CostReport = { rows: [], problems: [] };
  const limit = Math.max(budget, turn.entry.flow.segment_budget?.max ?? 0);
  for (const { locale } of locales) {
    const parts = turn.keys.map((k) => {
      const text = locale.messages[k];
      return text === undefined ? undefined : renderWorst(text, locale.lang)?.text;
    });
    if (parts.some((p) => p === undefined)) continue;
    const { encoding, segments, units } = smsCost(parts.join('\n'));
    const row: CostRow = {
      kind: 'turn',
      lang: locale.lang,
      key: turn.name,
      encoding,
      segments,
      chars: units,
    };
    report.rows.push(row);
    if (segments > limit) {
      const why = `the turn ${turn.name} (${turn.keys.join(' + ')}) is ${overBudget(row, limit)}`;
      report.problems.push(
        turn.entry.source.problem(['nodes', turn.index], 'turn_over_budget', why),
      );
    }
  }
  return report;
}

/** What every message and every multi-part turn costs in SMS segments, in every locale. */
export function costReport(view: CatalogView, budget: number): CostReport {
  const locales = [...view.locales].sort(byLang);
  const limits = budgets(view, budget);
  const parts = [
    ...locales.map((l) => messageRows(l, limits, budget)),
    ...view.flows.flatMap(turns).map((t) => turnRows(t, locales, budget)),
  ];
  return { rows: parts.flatMap((p) => p.rows), problems: parts.flatMap((p) => p.problems) };
}
