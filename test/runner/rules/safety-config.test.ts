import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import { render } from '../../../src/engine/index.js';
import {
  loadSafetyConfig,
  monthsSinceReview,
  SAFETY_REVIEW_MONTHS,
} from '../../../src/runner/rules/safety-config.js';

describe('safety contacts (config/safety.yaml)', () => {
  const config = loadSafetyConfig();

  it('were reviewed within the last 12 months (this test starts failing when they go stale)', () => {
    const months = monthsSinceReview(config, new Date());
    expect(
      months,
      `config/safety.yaml was reviewed on ${config.reviewed_on}: check every contact and move reviewed_on on`,
    ).toBeLessThanOrEqual(SAFETY_REVIEW_MONTHS);
    expect(months).toBeGreaterThan(-1); // not a date in the future
  });

  it('are the England contacts the issue names', () => {
    expect(config.contacts).toEqual({
      emergency: '999',
      nhs: '111',
      nhs_option: '2',
      samaritans: '116 123',
      shout_word: 'SHOUT',
      shout_number: '85258',
    });
  });

  it('every shipped language’s safety message carries every contact', async () => {
    const catalog = await loadCheckedCatalog('flows', 'locales');
    for (const lang of Object.keys(catalog.locales)) {
      const r = render(catalog.locales, 'crisis.safety', config.contacts, lang, lang);
      expect(r.ok, lang).toBe(true);
      if (!r.ok) continue;
      expect(r.lang, `${lang} must have its own crisis.safety`).toBe(lang);
      expect(r.errors, lang).toEqual([]);
      for (const value of Object.values(config.contacts)) expect(r.text, lang).toContain(value);
    }
  });

  it('a stale review counts its months', () => {
    expect(
      monthsSinceReview({ ...config, reviewed_on: '2025-01-01' }, new Date('2026-07-01')),
    ).toBe(18);
  });

  it('a broken file is refused with the field named, not half-loaded', () => {
    const dir = mkdtempSync(join(tmpdir(), 'safety-'));
    const file = join(dir, 'safety.yaml');
    writeFileSync(
      file,
      'version: 1\nreviewed_on: 2026-13-40\nreviewed_by: me\nregion: England\ncontacts: { emergency: "nine nine nine" }\n',
    );
    expect(() => loadSafetyConfig(file)).toThrow(/reviewed_on: must be a date/);
    expect(() => loadSafetyConfig(file)).toThrow(/contacts\.emergency: must be digits/);
    expect(() => loadSafetyConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read/);
  });
});
