import { describe, expect, it } from 'vitest';
import { reportCsv } from '../../src/reports/csv.js';
import { periodOf, reportRequestSchema } from '../../src/reports/period.js';
import { cell, group, ratio } from '../../src/reports/suppress.js';

describe('small-number suppression', () => {
  it('shows 0 and 5 or more; 1 to 4 as "<5"', () => {
    expect([0, 1, 4, 5, 12].map(cell)).toEqual([0, '<5', '<5', 5, 12]);
  });

  it('hides the next smallest count of a group when just one is "<5"', () => {
    expect(group({ a: 3, b: 10, c: 6, d: 0 })).toEqual({ a: '<5', b: 10, c: 'hidden', d: 0 });
    // Two small ones cannot be told apart from the total: nothing more is hidden.
    expect(group({ a: 3, b: 2, c: 10 })).toEqual({ a: '<5', b: '<5', c: 10 });
    expect(group({ a: 0, b: 7 })).toEqual({ a: 0, b: 7 });
  });

  it('shows a percentage only with a denominator of 5 or more and no hidden part', () => {
    expect(ratio(10, 15)).toEqual({ numerator: 10, rest: 5, denominator: 15, percent: 66.7 });
    expect(ratio(0, 7)).toEqual({ numerator: 0, rest: 7, denominator: 7, percent: 0 });
    expect(ratio(7, 7)).toEqual({ numerator: 7, rest: 0, denominator: 7, percent: 100 });
    expect(ratio(0, 0)).toEqual({ numerator: 0, rest: 0, denominator: 0, percent: null });
    expect(ratio(2, 3)).toEqual({
      numerator: '<5',
      rest: '<5',
      denominator: '<5',
      percent: 'hidden',
    });
    // 3 of 20: the 3 is small, so the 17 is hidden too, and 15% would give the 3 away.
    expect(ratio(3, 20)).toEqual({
      numerator: '<5',
      rest: 'hidden',
      denominator: 20,
      percent: 'hidden',
    });
    expect(ratio(18, 20)).toMatchObject({ numerator: 'hidden', rest: '<5', percent: 'hidden' });
  });
});

describe('report period', () => {
  it('is local midnight to local midnight: 23 hours on the spring change, 25 in autumn', () => {
    const spring = periodOf('2026-03-29', '2026-03-30', 'Europe/London');
    expect(spring.start.toISOString()).toBe('2026-03-29T00:00:00.000Z');
    expect(spring.end.toISOString()).toBe('2026-03-29T23:00:00.000Z');
    const autumn = periodOf('2026-10-25', '2026-10-26', 'Europe/London');
    expect(autumn.start.toISOString()).toBe('2026-10-24T23:00:00.000Z');
    expect(autumn.end.toISOString()).toBe('2026-10-26T00:00:00.000Z');
  });

  it('checks the request: real dates, to after from, json or csv, nothing else', () => {
    const ok = reportRequestSchema.parse({ from: '2026-03-01', to: '2026-04-01' });
    expect(ok).toEqual({ from: '2026-03-01', to: '2026-04-01', format: 'json' });
    const problems = (input: object) => {
      const r = reportRequestSchema.safeParse(input);
      return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    };
    expect(problems({ from: '2026-02-30', to: '2026-03-01' })).toEqual([
      'from: not a real calendar date',
    ]);
    expect(problems({ from: '2026-03-01', to: '2026-03-01' })).toEqual([
      'to: must be a day after from',
    ]);
    expect(problems({ from: '1/3/2026', to: '2026-04-01', format: 'xml' })).toEqual([
      'from: expected a date YYYY-MM-DD',
      'format: expected json or csv',
    ]);
    expect(problems({ to: '2026-04-01', extra: '1' })).toEqual([
      'from: required: a date YYYY-MM-DD',
      ': Unrecognized key: "extra"',
    ]);
  });
});

describe('report CSV', () => {
  it('is one figure a line, sections dotted, nulls empty, text quoted', () => {
    const csv = reportCsv({
      period: { from: '2026-03-01', to: '2026-04-01', zone: 'Europe/London' },
      suppression: 'a, "b"',
      take_up: { attended: '<5', referred: 9, percent: 'hidden' },
      wellbeing: { ons4_anxiety: { mean_first: null } },
    } as never);
    expect(csv).toBe(
      [
        'section,item,value',
        'period,from,2026-03-01',
        'period,to,2026-04-01',
        'period,zone,Europe/London',
        'report,suppression,"a, ""b"""',
        'take_up,attended,<5',
        'take_up,referred,9',
        'take_up,percent,hidden',
        'wellbeing.ons4_anxiety,mean_first,',
        '',
      ].join('\n'),
    );
  });
});
