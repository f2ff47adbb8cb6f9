import { describe, expect, it } from 'vitest';
import { NOT_UNDERSTOOD_KEY } from '../../src/engine/index.js';
import { checkLocales } from '../../src/engine/validate/index.js';
import { flowEntry, flowYaml, localeEntry, localeYaml, located, pos, view } from './inline.js';

const base = { [NOT_UNDERSTOOD_KEY]: 'Sorry?', 'a.hi': 'Hi', 'a.q': 'Yes or no?' };
const flowText = flowYaml([
  '{ id: a, type: say, text: a.hi, next: q }',
  '{ id: q, type: ask, kind: yes_no, text: a.q }',
]);

function check(flows: string[], locales: Record<string, string>) {
  return checkLocales(
    view(
      flows.map((t, i) => flowEntry(t, `f${i}.yaml`)),
      Object.entries(locales).map(([lang, text]) => localeEntry(lang, text)),
    ),
  );
}

describe('checkLocales: message keys', () => {
  it('is quiet when every locale has everything', () => {
    expect(check([flowText], { en: localeYaml(base), pl: localeYaml(base) })).toEqual([]);
  });

  it('reports a used key once per locale that lacks it, at the first flow field using it', () => {
    const twice = flowYaml([
      '{ id: a, type: say, text: a.hi, next: b }',
      '{ id: b, type: say, text: a.hi }',
    ]);
    const { 'a.hi': _, ...without } = base;
    const problems = check([twice], {
      en: localeYaml(base),
      cy: localeYaml(without),
      pl: localeYaml(without),
    });
    const at = pos('f0.yaml', twice, 'a.hi');
    expect(located(problems)).toEqual([`${at} missing_message`, `${at} missing_message`]);
    expect(problems.map((p) => p.message)).toEqual([
      'a.hi is missing in locale cy (cy.yaml)',
      'a.hi is missing in locale pl (pl.yaml)',
    ]);
  });

  it("reports the engine's own key missing, in the locale file", () => {
    const { [NOT_UNDERSTOOD_KEY]: _, ...without } = base;
    const problems = check([flowText], { en: localeYaml(base), pl: localeYaml(without) });
    expect(located(problems)).toEqual(['pl.yaml:2:1 missing_message']);
    expect(problems[0]?.message).toContain(NOT_UNDERSTOOD_KEY);
  });

  it('reports a key only some locales have, in each locale lacking it', () => {
    const problems = check([flowText], {
      cy: localeYaml({ ...base, 'a.extra': 'Ychwanegol' }),
      en: localeYaml(base),
      pl: localeYaml(base),
    });
    expect(located(problems)).toEqual([
      'en.yaml:2:1 locale_key_missing',
      'pl.yaml:2:1 locale_key_missing',
    ]);
    expect(problems[0]?.message).toBe('messages: a.extra is in cy but missing in locale en');
  });
});

describe('checkLocales: ICU and placeholders', () => {
  it('locates malformed ICU at the key and compares nothing against it', () => {
    const problems = check([], {
      en: localeYaml({ ...base, 'a.n': '{n, plural, one {# day}}' }),
      pl: localeYaml({ ...base, 'a.n': '{n, plural, one {# dzień} other {# dni}}' }),
    });
    expect(located(problems)).toEqual(['en.yaml:6:3 icu_syntax']);
    expect(problems[0]?.message).toContain('MISSING_OTHER_CLAUSE');
  });

  it('compares placeholders with English, inside plural and select branches too', () => {
    const problems = check([], {
      en: localeYaml({ ...base, 'a.n': '{n, plural, one {# day for {who}} other {# days}}' }),
      pl: localeYaml({ ...base, 'a.n': '{n, plural, one {# dzień} other {# dni}}' }),
      cy: localeYaml({ ...base, 'a.n': '{n, plural, one {# dydd {who}} other {# diwrnod}}' }),
    });
    expect(located(problems)).toEqual(['pl.yaml:6:3 placeholder_mismatch']);
    expect(problems[0]?.message).toBe(
      'messages.a.n: placeholders {n} in pl differ from {n}, {who} in en',
    );
  });

  it('without English, compares with the first locale', () => {
    const problems = check([], {
      pl: localeYaml({ ...base, 'a.n': 'Cześć {imie}' }),
      cy: localeYaml({ ...base, 'a.n': 'Helo {name}' }),
    });
    expect(located(problems)).toEqual(['pl.yaml:6:3 placeholder_mismatch']);
  });
});

describe('checkLocales: vars', () => {
  const locales = (hi: string, q = 'Yes or no?') => ({
    en: localeYaml({ ...base, 'a.hi': hi, 'a.q': q }),
  });

  it('reports a placeholder the node does not provide, at its vars (or its text)', () => {
    const withVars = flowYaml([
      '{ id: a, type: say, text: a.hi, vars: { days: 2 }, next: q }',
      '{ id: q, type: ask, kind: yes_no, text: a.q }',
    ]);
    const p1 = check([withVars], locales('Hi {name}, {days}'));
    expect(located(p1)).toEqual([`${pos('f0.yaml', withVars, '{ days')} missing_var`]);
    expect(p1[0]?.message).toBe('a.hi uses {name} (in en), but node "a" has no vars.name');
    const p2 = check([flowText], locales('Hi', 'Yes, {name}?'));
    expect(located(p2)).toEqual([`${pos('f0.yaml', flowText, 'a.q')} missing_var`]);
  });

  it('vars a message does not use are fine', () => {
    const extra = flowYaml([
      '{ id: a, type: say, text: a.hi, vars: { name: participant.first_name, unused: 1 }, next: q }',
      '{ id: q, type: ask, kind: yes_no, text: a.q }',
    ]);
    expect(check([extra], locales('Hi {name}'))).toEqual([]);
  });

  it('a hint is sent with no variables', () => {
    const hinted = flowYaml([
      '{ id: q, type: ask, kind: yes_no, text: a.hi, vars: { name: x }, on_invalid: { hint: a.q } }',
    ]);
    const problems = check([hinted], locales('Hi {name}', 'Reply yes or no, {name}'));
    expect(located(problems)).toEqual([`${pos('f0.yaml', hinted, 'a.q')} missing_var`]);
    expect(problems[0]?.message).toContain('a hint is sent with no variables');
  });

  it("the engine's not-understood message takes no variables", () => {
    const problems = check([], {
      en: localeYaml({ ...base, [NOT_UNDERSTOOD_KEY]: 'Sorry {name}' }),
    });
    expect(located(problems)).toEqual(['en.yaml:3:3 missing_var']);
  });
});

describe('checkLocales: keywords, numbers, language', () => {
  it('requires yes, no and skip in every locale', () => {
    const problems = check([], {
      en: localeYaml(base),
      pl: localeYaml(base, { keywords: '{ yes: [tak] }' }),
    });
    expect(located(problems)).toEqual([
      'pl.yaml:6:1 missing_keywords',
      'pl.yaml:6:1 missing_keywords',
    ]);
    expect(problems.map((p) => p.message.split(';')[0])).toEqual([
      'keywords: the "no" list is missing in locale pl',
      'keywords: the "skip" list is missing in locale pl',
    ]);
  });

  it('requires every option keyword list in every locale, at the option', () => {
    const choice = flowYaml([
      '{ id: q, type: ask, kind: choice, text: a.q, options: [{ value: t, keywords: tea }, { value: c, keywords: tea }] }',
    ]);
    const lists = '{ yes: [y], no: [n], skip: [s], tea: [tea] }';
    const problems = check([choice], {
      en: localeYaml(base, { keywords: lists }),
      pl: localeYaml(base),
    });
    expect(located(problems)).toEqual([`${pos('f0.yaml', choice, 'tea')} missing_keywords`]);
    expect(problems[0]?.message).toBe('keyword list "tea" is missing in locale pl (pl.yaml)');
  });

  it('requires number words for 0 to 10', () => {
    const problems = check([], {
      en: localeYaml(base, { numbers: '{ "1": [one], "2": [two] }' }),
    });
    expect(located(problems)).toEqual(['en.yaml:7:1 missing_numbers']);
    expect(problems[0]?.message).toContain('0, 3, 4, 5, 6, 7, 8, 9, 10');
  });

  it('a locale file must be named by a language tag', () => {
    const problems = check([], { 'en_GB!': localeYaml(base) });
    expect(located(problems)).toEqual(['en_GB!.yaml:1:1 invalid_lang']);
  });
});
