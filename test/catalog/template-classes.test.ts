import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/catalog/load.js';
import { classOf, loadTemplateClasses, untaggedKeys } from '../../src/catalog/template-classes.js';
import {
  CONSENT_WORDING_SHA256_PREFIX,
  CONSENT_WORDING_VERSION,
} from '../../src/runner/consent-evidence.js';

describe('template classes: service or promotional (checklist 33)', () => {
  it('every message key of the English locale is tagged (tag new keys in locales/templates.yaml)', async () => {
    const catalog = await loadCatalog('flows', 'locales');
    const classes = await loadTemplateClasses('locales');
    const en = catalog.locales.en;
    expect(en).toBeDefined();
    expect(untaggedKeys(classes, en!.messages)).toEqual([]);
  });

  it('finds an untagged key, and counts it as promotional', () => {
    const classes = { 'a.tagged': 'service' } as const;
    expect(untaggedKeys(classes, { 'a.tagged': 'x', 'b.new': 'y' })).toEqual(['b.new']);
    expect(classOf(classes, 'b.new')).toBe('promotional');
    expect(classOf(classes, 'a.tagged')).toBe('service');
    expect(classOf(classes, null)).toBe('service');
    // A joined SMS ("a,b") is service only if every part is.
    expect(classOf(classes, 'a.tagged,a.tagged')).toBe('service');
    expect(classOf(classes, 'a.tagged,b.new')).toBe('promotional');
  });

  it('templates.yaml is not taken for a language by the catalog loader', async () => {
    const catalog = await loadCatalog('flows', 'locales');
    expect(Object.keys(catalog.locales).sort()).not.toContain('templates');
    expect(catalog.problems).toEqual([]);
  });

  it('refuses a malformed file with the reason', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'll-classes-'));
    await writeFile(join(dir, 'templates.yaml'), 'version: 1\ntemplates:\n  a.b: marketing\n');
    await expect(loadTemplateClasses(dir)).rejects.toThrow(/templates\.a\.b/);
  });
});

/** Words that would tell a lock screen or a shared phone about someone's health. */
const HEALTH_WORDS = [
  'diagnos',
  'condition',
  'depress',
  'anxiety',
  'dementia',
  'alzheimer',
  'cancer',
  'diabet',
  'hiv',
  'schizo',
  'bipolar',
  'psychos',
  'autis',
  'adhd',
  'addict',
  'alcohol',
  'overdose',
  'pregnan',
  'disorder',
  'illness',
  'disease',
  'medication',
  'prescription',
  'mental health',
];
/** A stem counts only at the start of a word: 'hiv' is not in 'archivos'. */
const atWordStart = (stem: string) => new RegExp(`(?<!\\p{L})${stem}`, 'u');
const NHS_NUMBER = /\b\d{3}[ -]?\d{3}[ -]?\d{4}\b/;
// Letter-aware edges: Polish 'dobę' (a day) is not 'DOB'.
const DOB = /(?<!\p{L})(dob|date of birth|born on)(?!\p{L})|\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b/iu;

describe('minimal content in every template of every locale (checklist 45)', () => {
  it('no diagnosis or condition words, NHS numbers or dates of birth', async () => {
    const catalog = await loadCatalog('flows', 'locales');
    const found: string[] = [];
    for (const [lang, locale] of Object.entries(catalog.locales)) {
      for (const [key, text] of Object.entries(locale.messages)) {
        const lower = text.toLowerCase();
        for (const w of HEALTH_WORDS)
          if (atWordStart(w).test(lower)) found.push(`${lang} ${key}: ${w}`);
        if (NHS_NUMBER.test(text)) found.push(`${lang} ${key}: NHS number`);
        if (DOB.test(text)) found.push(`${lang} ${key}: date of birth`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the lint itself catches each kind', () => {
    expect(NHS_NUMBER.test('Your NHS number is 943 476 5919')).toBe(true);
    expect(DOB.test('DOB 01/02/1960')).toBe(true);
    expect(DOB.test('Samaritans: całą dobę')).toBe(false);
    expect(HEALTH_WORDS.some((w) => atWordStart(w).test('your depression group'))).toBe(true);
    expect(HEALTH_WORDS.some((w) => atWordStart(w).test('trimite fișiere sau archivos'))).toBe(
      false,
    );
  });
});

describe('consent wording version (checklist 32)', () => {
  it('changes with the English consent question: bump CONSENT_WORDING_VERSION and the hash together', async () => {
    const catalog = await loadCatalog('flows', 'locales');
    const text = catalog.locales.en?.messages['intake.consent'] ?? '';
    const hash = createHash('sha256').update(text).digest('hex').slice(0, 16);
    expect({ version: CONSENT_WORDING_VERSION, hash }).toEqual({
      version: CONSENT_WORDING_VERSION,
      hash: CONSENT_WORDING_SHA256_PREFIX,
    });
  });
});
