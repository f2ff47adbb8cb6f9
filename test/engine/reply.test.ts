import { describe, expect, it } from 'vitest';
import { isSkip, matchChoice, matchNumber, matchYesNo, normalize } from '../../src/engine/index.js';
import { locale } from '../support/engine.js';

const en = locale(
  'en',
  {},
  {
    keywords: {
      yes: ['yes', 'yeah', 'ok', '👍'],
      no: ['no', 'nope', 'not now'],
      skip: ['skip', 'rather not say'],
      lonely: ['lonely', 'cut off'],
      money: ['money', 'debt'],
    },
    numbers: { '0': ['zero'], '2': ['two'], '7': ['seven'], '10': ['ten'] },
  },
);
const cy = locale(
  'cy',
  {},
  {
    keywords: { yes: ['ie', 'iawn', 'ydw'], no: ['na', 'nac ydw'], skip: ['hepgor'] },
    numbers: { '7': ['saith'] },
  },
);
const options = [
  { value: 'lonely', keywords: 'lonely' },
  { value: 'money', keywords: 'money' },
  { value: 'other' },
];

describe('normalize', () => {
  it.each([
    ['  Yes!! ', 'yes'],
    ['Dydw i ddim yn siŵr', 'dydw i ddim yn siwr'],
    ['I’m fine.', 'im fine'],
    ['👍🏽', '👍'],
    ['Łódź', 'lodz'],
    ['٧', '7'],
    ['ہاں', 'ہاں'],
  ])('%j -> %j', (input, out) => expect(normalize(input)).toBe(out));
});

describe('matchChoice', () => {
  it.each([
    ['1', 'lonely'],
    [' 2. ', 'money'],
    ['option 3', 'other'],
    ['two', 'money'],
    ['I feel LONELY', 'lonely'],
    ['lonley', 'lonely'],
    ['lonelyy', 'lonely'],
    ['deb', undefined],
    ['very cut off', 'lonely'],
    ['١', 'lonely'],
  ])('%j reads as %s', (text, value) => {
    const m = matchChoice(text, options, [en]);
    if (value === undefined) expect(m.kind).toBe('none');
    else expect(m).toEqual({ kind: 'match', value });
  });

  it('never guesses between two options', () => {
    expect(matchChoice('1 or 2', options, [en]).kind).toBe('ambiguous');
    expect(matchChoice('lonely and money worries', options, [en]).kind).toBe('ambiguous');
  });

  it('a number outside the options reads as nothing', () => {
    expect(matchChoice('4', options, [en]).kind).toBe('none');
  });

  it('number words count only in short replies', () => {
    expect(matchChoice('there is no two ways about it really', options, [en]).kind).toBe('none');
  });
});

describe('matchYesNo', () => {
  it.each([
    ['YES', 'yes'],
    ['yeah!', 'yes'],
    ['👍', 'yes'],
    ['👍🏻', 'yes'],
    ['nope', 'no'],
    ['not now thanks', 'no'],
  ])('%j is %s', (text, value) => expect(matchYesNo(text, [en])).toEqual({ kind: 'match', value }));

  it('reads Welsh, and does not guess "yes no"', () => {
    expect(matchYesNo('Ydw', [cy])).toEqual({ kind: 'match', value: 'yes' });
    expect(matchYesNo('yes no', [en]).kind).toBe('ambiguous');
    expect(matchYesNo('banana', [en]).kind).toBe('none');
  });
});

describe('matchNumber', () => {
  it.each([
    ['7', 7],
    ['seven', 7],
    ['7/10', 7],
    ['7 / 10', 7],
    ['7 out of 10', 7],
    ['about seven', 7],
    ['saith', undefined],
    ['٧', 7],
    ['৭', 7],
    ['0', 0],
    ['zero', 0],
  ])('%j reads as %s', (text, value) => {
    const m = matchNumber(text, [en]);
    if (value === undefined) expect(m.kind).toBe('none');
    else expect(m).toEqual({ kind: 'match', value });
  });

  it('"out of ten" in the locale\'s words is not a second number (keywords.out_of)', () => {
    const outOf = { ...en, keywords: { ...en.keywords, out_of: ['out of', 'of'] } };
    const pl = locale(
      'pl',
      {},
      { keywords: { out_of: ['na', 'z'] }, numbers: { '7': ['siedem'], '10': ['dziesięć'] } },
    );
    expect(matchNumber('seven out of ten', [outOf])).toEqual({ kind: 'match', value: 7 });
    expect(matchNumber('seven of 10', [outOf])).toEqual({ kind: 'match', value: 7 });
    expect(matchNumber('ten out of ten', [outOf])).toEqual({ kind: 'match', value: 10 });
    expect(matchNumber('siedem na dziesiec', [pl])).toEqual({ kind: 'match', value: 7 });
    expect(matchNumber('7 z 10', [pl])).toEqual({ kind: 'match', value: 7 });
    // Without the list the ten is a second number: not guessed.
    expect(matchNumber('seven out of ten', [en]).kind).toBe('ambiguous');
    // A trailing "out of ten" does not make a decimal readable.
    expect(matchNumber('7.5 out of 10', [outOf]).kind).toBe('none');
  });

  it('a decimal or two numbers are not guessed', () => {
    expect(matchNumber('7.5', [en]).kind).toBe('none');
    expect(matchNumber('6 or 7', [en]).kind).toBe('ambiguous');
    expect(matchNumber('saith', [cy])).toEqual({ kind: 'match', value: 7 });
  });
});

describe('Arabizi (Arabic in Latin letters, digits for sounds)', () => {
  const ar = locale(
    'ar',
    {},
    {
      keywords: { yes: ['naam'], no: ['la2'], help: ['a7taj musa3ada'] },
      numbers: { '7': ['sab3a'], '9': ['tis3a'], '10': ['3ashara'] },
    },
  );

  it('a digit inside a word is a letter, not a number', () => {
    expect(matchNumber('sab3a', [ar])).toEqual({ kind: 'match', value: 7 });
    expect(matchNumber('tis3a', [ar])).toEqual({ kind: 'match', value: 9 });
    expect(matchNumber('3ashara', [ar])).toEqual({ kind: 'match', value: 10 });
    expect(matchNumber('b2dar', [ar]).kind).toBe('none');
    const help = [{ value: 'a' }, { value: 'b' }, { value: 'help', keywords: 'help' }];
    expect(matchChoice('a7taj musa3ada', help, [ar])).toEqual({ kind: 'match', value: 'help' });
    expect(matchYesNo('la2', [ar])).toEqual({ kind: 'match', value: 'no' });
  });

  it('ordinals and clock times keep their digits', () => {
    expect(matchNumber('1st', [en])).toEqual({ kind: 'match', value: 1 });
    expect(matchNumber('10am', [en])).toEqual({ kind: 'match', value: 10 });
    expect(matchNumber('7/10', [ar])).toEqual({ kind: 'match', value: 7 });
  });
});

describe('isSkip', () => {
  it('matches the whole reply only', () => {
    expect(isSkip('Skip', [en])).toBe(true);
    expect(isSkip('rather not say', [en])).toBe(true);
    expect(isSkip("don't skip me", [en])).toBe(false);
    expect(isSkip('hepgor', [cy])).toBe(true);
  });
});

describe('matchChoice: an exact keyword beats one read through a typo', () => {
  const ur = locale(
    'ur',
    {},
    {
      keywords: {
        smart: ['smartphone', 'iphone'],
        basic: ['sada', 'purana phone'],
      },
    },
  );
  const phones = [
    { value: 'smartphone', keywords: 'smart' },
    { value: 'basic_mobile', keywords: 'basic' },
  ];

  it('"purana phone" is basic; "phone" alone is still read as a typo of iphone', () => {
    expect(matchChoice('purana phone', phones, [ur])).toEqual({
      kind: 'match',
      value: 'basic_mobile',
    });
    expect(matchChoice('phone', phones, [ur])).toEqual({ kind: 'match', value: 'smartphone' });
    expect(matchChoice('iphone or sada', phones, [ur]).kind).toBe('ambiguous');
  });
});
