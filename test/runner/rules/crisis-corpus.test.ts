import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { z } from 'zod';
import { loadCheckedCatalog } from '../../../src/catalog/load.js';
import { crisisLookalikes, crisisPhrases, isCrisis } from '../../../src/runner/rules/crisis.js';

/**
 * The crisis phrase lists against two corpora: every crisis message must be caught (no false
 * negatives in a shipped language), and the benign corpus's false-positive rate is computed and
 * must be the one the README states, so the README cannot drift from the lists.
 */
const corpus = z.array(z.object({ lang: z.string(), text: z.string().min(1) }).strict());
const read = (name: string) =>
  corpus.parse(parse(readFileSync(`test/fixtures/crisis/${name}.yaml`, 'utf8')));

const catalog = await loadCheckedCatalog('flows', 'locales');
const shipped = new Set(Object.keys(catalog.locales));
const list = crisisPhrases(catalog.locales);
const lookalikes = crisisLookalikes(catalog.locales);
const crisis = read('crisis');
const benign = read('benign');
const measured = crisis.filter((e) => shipped.has(e.lang));
const benignMeasured = benign.filter((e) => shipped.has(e.lang));

function rates() {
  const missed = measured.filter((e) => !isCrisis(e.text, list, lookalikes));
  const flagged = benignMeasured.filter((e) => isCrisis(e.text, list, lookalikes));
  const pct = Math.round((1000 * flagged.length) / benignMeasured.length) / 10;
  return { missed, flagged, pct };
}

describe('crisis phrases: corpora', () => {
  it('every shipped locale has a crisis list', () => {
    for (const [lang, locale] of Object.entries(catalog.locales)) {
      expect(locale.keywords.crisis?.length ?? 0, lang).toBeGreaterThan(0);
    }
  });

  it('the corpora are big enough: 30+ crisis messages and 30+ everyday ones measured', () => {
    expect(measured.length).toBeGreaterThanOrEqual(30);
    expect(benignMeasured.length).toBeGreaterThanOrEqual(30);
    expect(new Set(measured.map((e) => e.lang)).size).toBeGreaterThanOrEqual(2);
  });

  it('catches every crisis message in every shipped language (false negatives: none)', () => {
    expect(rates().missed.map((e) => `${e.lang}: ${e.text}`)).toEqual([]);
  });

  it('the README states the false-positive rate this corpus gives', () => {
    const { flagged, pct } = rates();
    const readme = readFileSync('README.md', 'utf8');
    const stated = `false positives: ${flagged.length} of ${benignMeasured.length} everyday messages (${pct}%)`;
    const negatives = `false negatives: 0 of ${measured.length} crisis messages`;
    expect(readme, `README should say "${stated}"`).toContain(stated);
    expect(readme, `README should say "${negatives}"`).toContain(negatives);
  });

  it('everyday phrases with "kill", "die" or "stop" in them mostly pass', () => {
    for (const text of [
      'Just killing time before the group',
      'Is the stop-smoking group on Tuesday?',
      "I can't go on Tuesday, sorry",
      'zabijam czas przed zajęciami',
    ]) {
      expect(isCrisis(text, list), text).toBe(false);
    }
  });

  it('"can\'t go on" where a sentence ends is a crisis; "can\'t go on Tuesday" is not', () => {
    for (const text of [
      "can't go on",
      'I CANT GO ON!',
      "i can't go on, everything hurts",
      'cant go on\nsorry',
      "can't go on 😞",
    ]) {
      expect(isCrisis(text, list), text).toBe(true);
    }
    for (const text of [
      "I can't go on Tuesday",
      "can't go on the bus. It's too far",
      'we cant go on thursday',
    ]) {
      expect(isCrisis(text, list), text).toBe(false);
    }
  });

  it('matches on normalised text: case, accents, punctuation, one typo in a long word', () => {
    expect(isCrisis('SUICIDAL!!!', list)).toBe(true);
    expect(isCrisis('i feel suicdal', list)).toBe(true);
    expect(isCrisis('nie chce zyc', list)).toBe(true);
    expect(isCrisis('KMS.', list)).toBe(true);
    expect(isCrisis('', list)).toBe(false);
  });

  it('Arabic: انتظار (waiting) is not read as a typo of انتحار (suicide); انتحار still is caught', () => {
    for (const text of ['انتظار', 'أنا في انتظار الباص', 'سأنتظر عند الباب', 'انتصار']) {
      expect(isCrisis(text, list, lookalikes), text).toBe(false);
    }
    for (const text of ['انتحار', 'أفكر في الانتحار', 'سأنتحر', 'انتحاار']) {
      expect(isCrisis(text, list, lookalikes), text).toBe(true);
    }
    // Without the lookalike list the typo rule would have flagged it.
    expect(isCrisis('انتظار', list)).toBe(true);
  });
});
