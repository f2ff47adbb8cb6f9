/**
 * UK bank holidays by region. Years 2026-2030 come from the shipped, reviewed list; other
 * years fall back to the statutory pattern (no one-offs known). Configuration can add a
 * proclaimed one-off or remove a date, per region.
 */
import { z } from 'zod';
import {
  BANK_HOLIDAY_REGIONS,
  type BankHoliday,
  type BankHolidayRegion,
  computeBankHolidays,
} from './bank-holiday-rules.js';
import { SHIPPED_BANK_HOLIDAY_YEARS, SHIPPED_BANK_HOLIDAYS } from './bank-holidays-data.js';
import { assertIsoDate, type IsoDate } from './local-time.js';

export { BANK_HOLIDAY_REGIONS, type BankHoliday, type BankHolidayRegion };

export const bankHolidayRegionSchema = z
  .enum(BANK_HOLIDAY_REGIONS)
  .describe('UK bank-holiday region: england-and-wales, scotland or northern-ireland');

export const bankHolidayOverridesSchema = z
  .object({
    add: z.array(z.iso.date()).default([]).describe('extra holidays, e.g. a proclaimed one-off'),
    remove: z.array(z.iso.date()).default([]).describe('shipped dates that are not holidays'),
  })
  .refine((o) => !o.add.some((d) => o.remove.includes(d)), {
    message: 'a date cannot be both added and removed',
  });

export type BankHolidayOverrides = z.output<typeof bankHolidayOverridesSchema>;

/** Overrides per region, as configuration holds them. */
export const regionalBankHolidayOverridesSchema = z.partialRecord(
  bankHolidayRegionSchema,
  bankHolidayOverridesSchema,
);
export type RegionalBankHolidayOverrides = z.output<typeof regionalBankHolidayOverridesSchema>;

const ADDED_NAME = 'Bank holiday (added by configuration)';
const computed = new Map<string, readonly BankHoliday[]>();

function listFor(year: number, region: BankHolidayRegion): readonly BankHoliday[] {
  if (year >= SHIPPED_BANK_HOLIDAY_YEARS.from && year <= SHIPPED_BANK_HOLIDAY_YEARS.to) {
    return SHIPPED_BANK_HOLIDAYS[region].filter((h) => h.date.startsWith(`${year}-`));
  }
  const key = `${region}:${year}`;
  let list = computed.get(key);
  if (!list) {
    list = Object.freeze(computeBankHolidays(year, region));
    computed.set(key, list);
  }
  return list;
}

function yearOf(date: IsoDate): number {
  assertIsoDate(date);
  return Number(date.slice(0, 4));
}

/** Bank holidays of a year in a region, overrides applied, sorted by date. */
export function bankHolidaysIn(
  year: number,
  region: BankHolidayRegion,
  overrides?: BankHolidayOverrides,
): BankHoliday[] {
  const removed = new Set(overrides?.remove ?? []);
  const base = listFor(year, region).filter((h) => !removed.has(h.date));
  const have = new Set(base.map((h) => h.date));
  const added = (overrides?.add ?? [])
    .filter((d) => yearOf(d) === year && !have.has(d))
    .map((date) => ({ date, name: ADDED_NAME }));
  return [...base, ...added].sort((a, b) => a.date.localeCompare(b.date));
}

/**
 * Whether a calendar date (`yyyy-MM-dd`, already in the participant's local calendar) is
 * a bank holiday in the region. `add` and `remove` come from configuration.
 */
export function isBankHoliday(
  date: IsoDate,
  region: BankHolidayRegion,
  overrides?: BankHolidayOverrides,
): boolean {
  const year = yearOf(date);
  if (overrides?.remove.includes(date)) return false;
  if (overrides?.add.includes(date)) return true;
  return listFor(year, region).some((h) => h.date === date);
}
