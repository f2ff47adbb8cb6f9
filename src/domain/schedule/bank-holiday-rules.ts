/**
 * The statutory and proclaimed pattern of UK bank holidays (Banking and Financial Dealings
 * Act 1971, St Andrew's Day Bank Holiday (Scotland) Act 2007, annual proclamations),
 * used to generate and to check the shipped list in bank-holidays-data.ts. It knows no
 * one-off changes (a coronation, a jubilee, a moved VE Day): those come from the list or
 * from configuration overrides.
 */
import { DateTime } from 'luxon';

export const BANK_HOLIDAY_REGIONS = ['england-and-wales', 'scotland', 'northern-ireland'] as const;
export type BankHolidayRegion = (typeof BANK_HOLIDAY_REGIONS)[number];

export interface BankHoliday {
  date: string;
  name: string;
}

interface Fixed {
  month: number;
  day: number;
  name: string;
}

const NEW_YEAR: Fixed = { month: 1, day: 1, name: "New Year's Day" };
const SECOND_JANUARY: Fixed = { month: 1, day: 2, name: '2nd January' };
const ST_PATRICK: Fixed = { month: 3, day: 17, name: "St Patrick's Day" };
const BOYNE: Fixed = { month: 7, day: 12, name: "Battle of the Boyne (Orangemen's Day)" };
const ST_ANDREW: Fixed = { month: 11, day: 30, name: "St Andrew's Day" };
const CHRISTMAS: Fixed = { month: 12, day: 25, name: 'Christmas Day' };
const BOXING_DAY: Fixed = { month: 12, day: 26, name: 'Boxing Day' };

const FIXED: Record<BankHolidayRegion, Fixed[]> = {
  'england-and-wales': [NEW_YEAR, CHRISTMAS, BOXING_DAY],
  scotland: [NEW_YEAR, SECOND_JANUARY, ST_ANDREW, CHRISTMAS, BOXING_DAY],
  'northern-ireland': [NEW_YEAR, ST_PATRICK, BOYNE, CHRISTMAS, BOXING_DAY],
};

/** Easter Sunday (Gregorian), by the anonymous Meeus/Jones/Butcher computus. */
export function easterSunday(year: number): DateTime {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31);
  const day = ((h + l - 7 * m + 114) % 31) + 1;
  return DateTime.utc(year, month, day);
}

function firstMonday(year: number, month: number): DateTime {
  const first = DateTime.utc(year, month, 1);
  return first.plus({ days: (8 - first.weekday) % 7 });
}

function lastMonday(year: number, month: number): DateTime {
  const last = DateTime.utc(year, month, 1).endOf('month').startOf('day');
  return last.minus({ days: (last.weekday + 6) % 7 });
}

function movable(year: number, region: BankHolidayRegion): BankHoliday[] {
  const easter = easterSunday(year);
  const days: [DateTime, string][] = [
    [easter.minus({ days: 2 }), 'Good Friday'],
    [firstMonday(year, 5), 'Early May bank holiday'],
    [lastMonday(year, 5), 'Spring bank holiday'],
  ];
  if (region !== 'scotland') days.push([easter.plus({ days: 1 }), 'Easter Monday']);
  const summer = region === 'scotland' ? firstMonday(year, 8) : lastMonday(year, 8);
  days.push([summer, 'Summer bank holiday']);
  return days.map(([d, name]) => ({ date: d.toISODate() as string, name }));
}

const isWeekend = (d: DateTime): boolean => d.weekday >= 6;

/**
 * Fixed-date holidays on a weekday stay put; one on a Saturday or Sunday gets a
 * substitute: the next weekday not already a holiday, taken in date order. This gives
 * Christmas on Saturday -> Monday 27 and Boxing Day on Sunday -> Tuesday 28, and
 * Christmas on Sunday -> Tuesday 27 (Boxing Day keeps Monday 26).
 */
function withSubstitutes(year: number, fixed: Fixed[], taken: Set<string>): BankHoliday[] {
  const out: BankHoliday[] = [];
  const dates = fixed.map((f) => ({ d: DateTime.utc(year, f.month, f.day), name: f.name }));
  for (const { d, name } of dates.filter(({ d }) => !isWeekend(d))) {
    taken.add(d.toISODate() as string);
    out.push({ date: d.toISODate() as string, name });
  }
  for (const { d, name } of dates.filter(({ d }) => isWeekend(d))) {
    let sub = d.plus({ days: 1 });
    while (isWeekend(sub) || taken.has(sub.toISODate() as string)) sub = sub.plus({ days: 1 });
    taken.add(sub.toISODate() as string);
    out.push({ date: sub.toISODate() as string, name: `${name} (substitute day)` });
  }
  return out;
}

/** All bank holidays of a year in a region by the rules, sorted by date. */
export function computeBankHolidays(year: number, region: BankHolidayRegion): BankHoliday[] {
  const moving = movable(year, region);
  const taken = new Set(moving.map((h) => h.date));
  const fixed = withSubstitutes(year, FIXED[region], taken);
  return [...moving, ...fixed].sort((a, b) => a.date.localeCompare(b.date));
}
