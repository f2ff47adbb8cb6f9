import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  computeBankHolidays,
  easterSunday,
} from '../../../src/domain/schedule/bank-holiday-rules.js';
import {
  BANK_HOLIDAY_REGIONS,
  bankHolidayOverridesSchema,
  bankHolidaysIn,
  isBankHoliday,
} from '../../../src/domain/schedule/bank-holidays.js';
import {
  SHIPPED_BANK_HOLIDAY_YEARS,
  SHIPPED_BANK_HOLIDAYS,
} from '../../../src/domain/schedule/bank-holidays-data.js';

// Proclaimed one-offs that the rules cannot know, as { region: { add, remove } } per year.
// Add an entry here when one is added to the shipped list.
const ONE_OFFS: Record<string, never> = {};

const years = (): number[] => {
  const out: number[] = [];
  for (let y = SHIPPED_BANK_HOLIDAY_YEARS.from; y <= SHIPPED_BANK_HOLIDAY_YEARS.to; y++) {
    out.push(y);
  }
  return out;
};

describe('shipped bank holiday list', () => {
  it.each(BANK_HOLIDAY_REGIONS)('%s matches the statutory rules for 2026-2030', (region) => {
    expect(Object.keys(ONE_OFFS)).toEqual([]);
    const recomputed = years().flatMap((y) => computeBankHolidays(y, region));
    expect(SHIPPED_BANK_HOLIDAYS[region]).toEqual(recomputed);
  });

  it.each(BANK_HOLIDAY_REGIONS)('%s: sorted, unique, weekdays only, 2026-2030', (region) => {
    const dates = SHIPPED_BANK_HOLIDAYS[region].map((h) => h.date);
    expect([...dates].sort()).toEqual(dates);
    expect(new Set(dates).size).toBe(dates.length);
    for (const d of dates) {
      const day = DateTime.fromISO(d, { zone: 'utc' });
      expect(day.weekday, d).toBeLessThanOrEqual(5);
      expect(day.year).toBeGreaterThanOrEqual(2026);
      expect(day.year).toBeLessThanOrEqual(2030);
    }
  });

  it('has the expected number of holidays a year', () => {
    for (const y of years()) {
      expect(bankHolidaysIn(y, 'england-and-wales')).toHaveLength(8);
      expect(bankHolidaysIn(y, 'scotland')).toHaveLength(9);
      expect(bankHolidaysIn(y, 'northern-ireland')).toHaveLength(10);
    }
  });

  it('matches GOV.UK for England and Wales 2026, independently of the rules', () => {
    expect(bankHolidaysIn(2026, 'england-and-wales').map((h) => h.date)).toEqual([
      '2026-01-01',
      '2026-04-03',
      '2026-04-06',
      '2026-05-04',
      '2026-05-25',
      '2026-08-31',
      '2026-12-25',
      '2026-12-28',
    ]);
  });

  it.each([
    ['2026-04-03', 'Good Friday 2026', ['england-and-wales', 'scotland', 'northern-ireland']],
    ['2027-03-29', 'Easter Monday 2027', ['england-and-wales', 'northern-ireland']],
    [
      '2027-12-27',
      'Christmas 2027 substitute',
      ['england-and-wales', 'scotland', 'northern-ireland'],
    ],
    [
      '2027-12-28',
      'Boxing Day 2027 substitute',
      ['england-and-wales', 'scotland', 'northern-ireland'],
    ],
    [
      '2026-12-28',
      'Boxing Day 2026 substitute',
      ['england-and-wales', 'scotland', 'northern-ireland'],
    ],
    ['2026-01-02', '2nd January 2026', ['scotland']],
    ['2027-01-04', '2nd January 2027 substitute', ['scotland']],
    [
      '2028-01-03',
      'New Year 2028 substitute',
      ['england-and-wales', 'scotland', 'northern-ireland'],
    ],
    ['2028-01-04', '2nd January 2028 substitute', ['scotland']],
    ['2026-03-17', "St Patrick's Day 2026", ['northern-ireland']],
    ['2029-03-19', "St Patrick's Day 2029 substitute", ['northern-ireland']],
    ['2026-07-13', 'Battle of the Boyne 2026 substitute', ['northern-ireland']],
    ['2026-08-03', 'Summer bank holiday 2026, Scotland', ['scotland']],
    ['2026-08-31', 'Summer bank holiday 2026', ['england-and-wales', 'northern-ireland']],
    ['2026-11-30', "St Andrew's Day 2026", ['scotland']],
    ['2030-12-02', "St Andrew's Day 2030 substitute", ['scotland']],
  ] as const)('%s (%s) is a holiday exactly in %j', (date, _label, regions) => {
    for (const region of BANK_HOLIDAY_REGIONS) {
      expect(isBankHoliday(date, region), `${date} ${region}`).toBe(
        (regions as readonly string[]).includes(region),
      );
    }
  });

  it('is false on ordinary days and on weekend days whose holiday moved', () => {
    expect(isBankHoliday('2026-06-10', 'england-and-wales')).toBe(false);
    expect(isBankHoliday('2026-12-26', 'england-and-wales')).toBe(false);
    expect(isBankHoliday('2026-07-12', 'northern-ireland')).toBe(false);
  });
});

describe('computus and rules', () => {
  it.each([
    [1818, '1818-03-22'],
    [1943, '1943-04-25'],
    [2000, '2000-04-23'],
    [2008, '2008-03-23'],
    [2011, '2011-04-24'],
    [2019, '2019-04-21'],
    [2024, '2024-03-31'],
    [2025, '2025-04-20'],
    [2026, '2026-04-05'],
    [2027, '2027-03-28'],
    [2038, '2038-04-25'],
    [2285, '2285-03-22'],
  ])('Easter Sunday %i is %s', (year, date) => {
    expect(easterSunday(year).toISODate()).toBe(date);
  });

  it('reproduces a past year without one-offs (England and Wales 2021)', () => {
    expect(computeBankHolidays(2021, 'england-and-wales').map((h) => h.date)).toEqual([
      '2021-01-01',
      '2021-04-02',
      '2021-04-05',
      '2021-05-03',
      '2021-05-31',
      '2021-08-30',
      '2021-12-27',
      '2021-12-28',
    ]);
  });

  it('gives Christmas on a Sunday the Tuesday (Boxing Day keeps Monday)', () => {
    const dec = computeBankHolidays(2022, 'england-and-wales').filter((h) => h.date > '2022-12');
    expect(dec).toEqual([
      { date: '2022-12-26', name: 'Boxing Day' },
      { date: '2022-12-27', name: 'Christmas Day (substitute day)' },
    ]);
  });

  it('falls back to the rules outside the shipped years', () => {
    expect(isBankHoliday('2031-04-11', 'england-and-wales')).toBe(true); // Good Friday 2031
    expect(isBankHoliday('2025-12-26', 'scotland')).toBe(true);
  });
});

describe('overrides', () => {
  const overrides = bankHolidayOverridesSchema.parse({
    add: ['2026-06-15'],
    remove: ['2026-05-04'],
  });

  it('adds a proclaimed one-off and removes a date', () => {
    expect(isBankHoliday('2026-06-15', 'england-and-wales', overrides)).toBe(true);
    expect(isBankHoliday('2026-05-04', 'england-and-wales', overrides)).toBe(false);
    expect(isBankHoliday('2026-05-25', 'england-and-wales', overrides)).toBe(true);
    const list = bankHolidaysIn(2026, 'england-and-wales', overrides).map((h) => h.date);
    expect(list).toContain('2026-06-15');
    expect(list).not.toContain('2026-05-04');
    expect(list).toHaveLength(8);
  });

  it('validates configuration', () => {
    expect(bankHolidayOverridesSchema.parse({})).toEqual({ add: [], remove: [] });
    expect(bankHolidayOverridesSchema.safeParse({ add: ['2026-13-01'] }).success).toBe(false);
    const both = { add: ['2026-06-15'], remove: ['2026-06-15'] };
    expect(bankHolidayOverridesSchema.safeParse(both).success).toBe(false);
  });

  it('refuses a malformed date', () => {
    expect(() => isBankHoliday('2026-02-30', 'scotland')).toThrow(RangeError);
    expect(() => isBankHoliday('26-01-01', 'scotland')).toThrow(RangeError);
  });
});
