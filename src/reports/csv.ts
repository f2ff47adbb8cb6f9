/**
 * The exported report as CSV, one figure a line (`section,item,value`), so a spreadsheet
 * can filter or pivot it. Nested sections are joined with dots (`profile.age_band`);
 * a null (nothing to divide by) is an empty value.
 */
import type { ExportedReport } from './suppress.js';

const quote = (s: string): string => (/[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);

function rows(section: string, value: unknown, item: string): string[][] {
  if (value !== null && typeof value === 'object') {
    const inner = section === '' ? item : `${section}.${item}`;
    return Object.entries(value).flatMap(([k, v]) => rows(inner, v, k));
  }
  return [[section, item, value === null ? '' : String(value)]];
}

export function reportCsv(report: ExportedReport): string {
  const lines = Object.entries(report).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' ? rows('', v, k) : [['report', k, String(v)]],
  );
  return [['section', 'item', 'value'], ...lines]
    .map((line) => line.map(quote).join(','))
    .join('\n')
    .concat('\n');
}
