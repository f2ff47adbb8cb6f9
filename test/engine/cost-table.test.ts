import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';
import { costTableMarkdown, flowCosts, flowKeys } from '../../src/engine/validate/cost-table.js';

describe('cost table (README: segments per flow per language)', async () => {
  const catalog = await loadCheckedCatalog('flows', 'locales');

  it('has a row for every flow and a column for every shipped locale (new files included)', () => {
    const table = costTableMarkdown(catalog.flows, catalog.locales).split('\n');
    const langs = Object.keys(catalog.locales).sort();
    expect(table[0]).toBe(`| flow | ${langs.join(' | ')} |`);
    expect(table).toHaveLength(2 + Object.keys(catalog.flows).length);
  });

  it('no flow message is over its budget: 3 segments, or the flow file says why', () => {
    for (const c of flowCosts(catalog.flows, catalog.locales)) {
      const budget = catalog.flows[c.flow]?.segment_budget?.max ?? 3;
      expect(c.max, `${c.flow} in ${c.lang}`).toBeLessThanOrEqual(budget);
      expect(c.total).toBeGreaterThan(0);
    }
  });

  it('the README carries the current table (regenerate with src/cli/cost-table.ts)', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(costTableMarkdown(catalog.flows, catalog.locales));
  });

  it('counts texts and hints once each', () => {
    const keys = flowKeys(catalog.flows.reminder_day_before!);
    expect(keys).toContain('reminder.hint');
    expect(new Set(keys).size).toBe(keys.length);
  });
});
