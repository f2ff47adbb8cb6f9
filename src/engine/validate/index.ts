/** Static checks of flows and locales: pure functions over parsed files, located problems out. */
import { checkGraph } from './graph.js';
import { checkLocales } from './locales.js';
import { type CostRow, costReport } from './report.js';
import type { CatalogView, Problem } from './types.js';

export { checkGraph } from './graph.js';
export { checkLocales } from './locales.js';
export { type CostRow, costReport } from './report.js';
export type { CatalogView, FlowEntry, LocaleEntry } from './types.js';

/** The default SMS segment budget per message. */
export const DEFAULT_SEGMENT_BUDGET = 3;

export interface Validation {
  problems: Problem[];
  rows: CostRow[];
}

export function validateCatalog(view: CatalogView, budget = DEFAULT_SEGMENT_BUDGET): Validation {
  const report = costReport(view, budget);
  return {
    problems: [...checkGraph(view), ...checkLocales(view), ...report.problems],
    rows: report.rows,
  };
}
