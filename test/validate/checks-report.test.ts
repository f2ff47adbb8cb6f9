import { describe, expect, it } from 'vitest';
import { NOT_UNDERSTOOD_KEY, smsCost } from '../../src/engine/index.js';
import { type CostRow, costReport, validateCatalog } from '../../src/engine/validate/index.js';
import { WORST_NAME, WORST_NUMBER } from '../../src/engine/validate/worst-case.js';
import { flowEntry, flowYaml, localeEntry, localeYaml, located, pos, view } from './inline.js';

const sorry = { [NOT_UNDERSTOOD_KEY]: 'Sorry?' };

function report(
  messages: Record<string, Record<string, string>>,
  flows: string[] = [],
  budget = 3,
) {
  return costReport(
    view(
      flows.map((t, i) => flowEntry(t, `f${i}.yaml`)),
      Object.entries(messages).map(([lang, m]) =>
        localeEntry(lang, localeYaml({ ...sorry, ...m })),
      ),
    ),
    budget,
  );
}

const row = (rows: readonly CostRow[], lang: string, key: string) =>
  rows.find((r) => r.lang === lang && r.key === key);

describe('costReport: messages', () => {
  it('lists every message of every locale with encoding, segments and chars', () => {
    const { rows, problems } = report({
      pl: { 'a.hi': 'Dziękujemy' },
      en: { 'a.hi': 'Thank you' },
    });
    expect(problems).toEqual([]);
    expect(rows.map((r) => `${r.lang} ${r.key}`)).toEqual([
      `en ${NOT_UNDERSTOOD_KEY}`,
      'en a.hi',
      `pl ${NOT_UNDERSTOOD_KEY}`,
      'pl a.hi',
    ]);
    expect(row(rows, 'en', 'a.hi')).toEqual({
      kind: 'message',
      lang: 'en',
      key: 'a.hi',
      encoding: 'GSM-7',
      segments: 1,
      chars: 9,
    });
    // ę is not in the GSM-7 alphabet: the whole message goes as UCS-2.
    expect(row(rows, 'pl', 'a.hi')).toMatchObject({ encoding: 'UCS-2', segments: 1, chars: 10 });
  });

  it('fills a name with the worst case: curly apostrophe and emoji force UCS-2', () => {
    expect([...WORST_NAME]).toHaveLength(20);
    const { rows } = report({ en: { 'a.hi': 'Hi {name}' } });
    expect(row(rows, 'en', 'a.hi')).toMatchObject({
      encoding: 'UCS-2',
      chars: `Hi ${WORST_NAME}`.length,
    });
  });

  it('takes the longest plural and select branches, with a large number', () => {
    const { rows } = report({
      en: {
        'a.n': '{n, plural, one {# item} other {# items in your basket today}}',
        'a.s': '{who, select, lead {the activity lead for your group} other {someone}}',
      },
    });
    const grouped = new Intl.NumberFormat('en').format(WORST_NUMBER);
    expect(row(rows, 'en', 'a.n')?.chars).toBe(`${grouped} items in your basket today`.length);
    expect(row(rows, 'en', 'a.s')?.chars).toBe('the activity lead for your group'.length);
  });

  it('reports a message over the budget at its key', () => {
    const long = 'x'.repeat(153 * 3 + 1);
    const { problems } = report({ en: { 'a.hi': 'short', 'a.long': long } });
    expect(located(problems)).toEqual(['en.yaml:5:3 over_budget']);
    expect(problems[0]?.message).toMatch(/^messages\.a\.long is 4 SMS segments in en \(GSM-7, 460/);
    expect(report({ en: { 'a.long': long } }, [], 4).problems).toEqual([]);
  });

  it("a flow's segment_budget allows more for the messages it uses", () => {
    const long = 'ę'.repeat(67 * 4);
    const flow = (header: string) => flowYaml(['{ id: a, type: say, text: a.long }'], { header });
    const allowed = flow('segment_budget: { max: 4, why: the consent notice is long }\n');
    expect(report({ pl: { 'a.long': long } }, [allowed]).problems).toEqual([]);
    const tight = flow('segment_budget: { max: 3, why: the consent notice is long }\n');
    expect(located(report({ pl: { 'a.long': long } }, [tight]).problems)).toEqual([
      'pl.yaml:4:3 over_budget',
    ]);
  });
});

describe('costReport: turns', () => {
  const chain = flowYaml([
    '{ id: a, type: say, text: a.one, next: b }',
    '{ id: b, type: set, tag: t, next: c }',
    '{ id: c, type: say, text: a.two, next: q }',
    '{ id: q, type: ask, kind: yes_no, text: a.q, on_invalid: { hint: a.hint } }',
  ]);
  const messages = { 'a.one': 'One.', 'a.two': 'Two.', 'a.q': 'Yes?', 'a.hint': 'Say yes.' };

  it('joins a say chain up to its question into one SMS, keyed flow:node', () => {
    const { rows } = report({ en: messages }, [chain]);
    const turns = rows.filter((r) => r.kind === 'turn');
    expect(turns).toEqual([
      { kind: 'turn', lang: 'en', key: 'f:a', encoding: 'GSM-7', segments: 1, chars: 14 },
    ]);
    expect(smsCost('One.\nTwo.\nYes?').units).toBe(14);
  });

  it('costs the retry of an ask without a hint: not understood, then the question', () => {
    const plain = flowYaml(['{ id: q, type: ask, kind: yes_no, text: a.q }']);
    const { rows } = report({ en: messages }, [plain]);
    expect(row(rows, 'en', 'f:q:retry')).toMatchObject({ chars: 'Sorry?\nYes?'.length });
  });

  it('reports a turn over the budget at the node where it starts', () => {
    const long = { ...messages, 'a.one': 'o'.repeat(300), 'a.two': 't'.repeat(300) };
    const { problems } = report({ en: long }, [chain]);
    expect(located(problems)).toEqual([`${pos('f0.yaml', chain, '{ id: a')} turn_over_budget`]);
    expect(problems[0]?.message).toContain('the turn f:a (a.one + a.two + a.q) is 4 SMS segments');
  });
});

describe('validateCatalog', () => {
  it('runs every check and returns the rows', () => {
    const text = flowYaml(['{ id: a, type: say, text: a.hi, next: zz }']);
    const flow = flowEntry(text, 'f.yaml');
    const en = localeEntry('en', localeYaml({ ...sorry, 'a.hi': 'Hi' }));
    const result = validateCatalog(view([flow], [en]));
    expect(located(result.problems)).toEqual([`${pos('f.yaml', text, 'zz')} dangling_ref`]);
    expect(result.rows).toHaveLength(2);
  });
});
