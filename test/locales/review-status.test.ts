import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../src/catalog/load.js';

/** The README's "Languages and review status" table agrees with each locale's meta.reviewed. */
describe('locale review status in the README', async () => {
  const catalog = await loadCheckedCatalog('flows', 'locales');
  const readme = readFileSync('README.md', 'utf8');
  const section = readme.split('### Languages and review status')[1]?.split('\n### ')[0] ?? '';
  const rows = new Map(
    [...section.matchAll(/^\| ([a-z]{2,3}(?:-[A-Za-z0-9]+)*) \| [^|]+ \| ([^|]+) \|$/gm)].map(
      (m) => [m[1], m[2]?.trim() ?? ''],
    ),
  );

  it('the table is there', () => {
    expect(rows.size).toBeGreaterThanOrEqual(12);
  });

  for (const [lang, locale] of Object.entries(catalog.locales)) {
    it(`${lang}: listed, and "unreviewed" exactly when meta.reviewed is false`, () => {
      const status = rows.get(lang);
      expect(status, `README has no row for ${lang}`).toBeDefined();
      expect(/\bunreviewed\b/.test(status ?? ''), status).toBe(!locale.meta.reviewed);
    });
  }
});
