import { describe, expect, it } from 'vitest';
import { placeholders, render, smsCost } from '../../src/engine/index.js';
import { locale } from '../support/engine.js';

const days =
  '{n, plural, zero {# zero} one {# one} two {# two} few {# few} many {# many} other {# other}}';
const locales = {
  en: locale('en', {
    'a.days': days,
    'a.sel': '{who, select, lead {Lead} other {Someone}}',
    'a.only_en': 'English only',
  }),
  cy: locale('cy', { 'a.days': days }),
  pl: locale('pl', { 'a.days': days, 'a.broken': '{n, plural, one {x}' }),
  ar: locale('ar', { 'a.days': days }),
};

describe('render', () => {
  it.each([
    ['en', 1, '1 one'],
    ['en', 3, '3 other'],
    ['cy', 2, '2 two'],
    ['cy', 3, '3 few'],
    ['cy', 6, '6 many'],
    ['pl', 3, '3 few'],
    ['pl', 5, '5 many'],
    ['ar', 0, '0 zero'],
    ['ar', 11, '11 many'],
  ])('plural rules of %s for %d', (lang, n, out) => {
    expect(render(locales, 'a.days', { n }, lang, 'en')).toMatchObject({
      ok: true,
      text: out,
      lang,
    });
  });

  it('select works and falls back to other', () => {
    expect(render(locales, 'a.sel', { who: 'lead' }, 'en', 'en')).toMatchObject({ text: 'Lead' });
    expect(render(locales, 'a.sel', { who: 'x' }, 'en', 'en')).toMatchObject({ text: 'Someone' });
  });

  it('falls back from the participant language to the default then English, saying so', () => {
    const r = render(locales, 'a.only_en', {}, 'cy', 'pl');
    expect(r).toMatchObject({ ok: true, text: 'English only', lang: 'en' });
    expect(r.errors.map((e) => e.code)).toEqual(['missing_translation', 'missing_translation']);
  });

  it('a malformed message falls back rather than sending nothing', () => {
    const r = render(
      { ...locales, en: locale('en', { 'a.broken': 'Fallback {n}' }) },
      'a.broken',
      { n: 1 },
      'pl',
      'en',
    );
    expect(r).toMatchObject({ ok: true, text: 'Fallback 1' });
    expect(r.errors[0]?.code).toBe('format_error');
  });

  it('lists placeholders inside plural and select branches', () => {
    expect(
      [
        ...placeholders('{a} {b, plural, other {{c}}} {d, select, x {{e}} other {}} <b>{f}</b>'),
      ].sort(),
    ).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });
});

describe('smsCost', () => {
  it.each([
    ['a'.repeat(160), 'GSM-7', 1],
    ['a'.repeat(161), 'GSM-7', 2],
    ['a'.repeat(306), 'GSM-7', 2],
    ['a'.repeat(307), 'GSM-7', 3],
    ['{'.repeat(80), 'GSM-7', 1],
    ['{'.repeat(81), 'GSM-7', 2],
    ['ą'.repeat(70), 'UCS-2', 1],
    ['ą'.repeat(71), 'UCS-2', 2],
    ['I’m'.padEnd(134, 'x'), 'UCS-2', 2],
    ['😀'.repeat(35), 'UCS-2', 1],
    ['', 'GSM-7', 0],
  ])('%#: %s chars', (text, encoding, segments) => {
    expect(smsCost(text)).toMatchObject({ encoding, segments });
  });
});
