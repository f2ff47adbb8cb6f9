import type { Flow, FlowNode } from '../flow-schema.js';
import type { Locale } from '../locale-schema.js';
import type { Path, Problem, Source } from '../parse.js';

/** A parsed flow with the source it came from, so problems can point into the file. */
export interface FlowEntry {
  flow: Flow;
  source: Source;
}

export interface LocaleEntry {
  locale: Locale;
  source: Source;
}

/** What the checks read: parsed flows and locales with their sources. No I/O. */
export interface CatalogView {
  flows: readonly FlowEntry[];
  locales: readonly LocaleEntry[];
}

export type { Path, Problem };

/** The YAML path of a node: flow nodes keep their file order, so the index is the file's. */
export function nodePath(index: number, ...field: Path): Path {
  return ['nodes', index, ...field];
}

/** Where a flow starts: `start`, else its first node. */
export function entryOf(flow: Flow): string | undefined {
  return flow.start ?? flow.nodes[0]?.id;
}

/** Nodes by id; the first of duplicated ids wins (the engine's lookup does the same). */
export function nodeIndex(flow: Flow): Map<string, { node: FlowNode; index: number }> {
  const byId = new Map<string, { node: FlowNode; index: number }>();
  flow.nodes.forEach((node, index) => {
    if (!byId.has(node.id)) byId.set(node.id, { node, index });
  });
  return byId;
}

/** The reference locale for comparisons: English when shipped, else the first by language. */
export function referenceLocale(locales: readonly LocaleEntry[]): LocaleEntry | undefined {
  const sorted = [...locales].sort((a, b) => a.locale.lang.localeCompare(b.locale.lang));
  return sorted.find((l) => l.locale.lang === 'en') ?? sorted[0];
}
