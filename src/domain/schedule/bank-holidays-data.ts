/**
 * UK bank holidays 2026-2030, as shipped. DATA, REVIEWED: generated once from
 * bank-holiday-rules.ts, spot-checked against GOV.UK's published 2026-2027 dates, and pinned
 * by test/domain/schedule/bank-holidays.test.ts, which recomputes it from the rules.
 * A proclaimed one-off (a jubilee, a coronation) is added here AND noted in that test, or
 * added per deployment through configuration overrides ({ add, remove }).
 */
import type { BankHoliday, BankHolidayRegion } from './bank-holiday-rules.js';

export const SHIPPED_BANK_HOLIDAY_YEARS = { from: 2026, to: 2030 } as const;

const list = (rows: readonly (readonly [string, string])[]): readonly BankHoliday[] =>
  Object.freeze(rows.map(([date, name]) => Object.freeze({ date, name })));

export const SHIPPED_BANK_HOLIDAYS: Readonly<Record<BankHolidayRegion, readonly BankHoliday[]>> = {
  'england-and-wales': list([
    // 2026
    ['2026-01-01', "New Year's Day"],
    ['2026-04-03', 'Good Friday'],
    ['2026-04-06', 'Easter Monday'],
    ['2026-05-04', 'Early May bank holiday'],
    ['2026-05-25', 'Spring bank holiday'],
    ['2026-08-31', 'Summer bank holiday'],
    ['2026-12-25', 'Christmas Day'],
    ['2026-12-28', 'Boxing Day (substitute day)'],
    // 2027
    ['2027-01-01', "New Year's Day"],
    ['2027-03-26', 'Good Friday'],
    ['2027-03-29', 'Easter Monday'],
    ['2027-05-03', 'Early May bank holiday'],
    ['2027-05-31', 'Spring bank holiday'],
    ['2027-08-30', 'Summer bank holiday'],
    ['2027-12-27', 'Christmas Day (substitute day)'],
    ['2027-12-28', 'Boxing Day (substitute day)'],
    // 2028
    ['2028-01-03', "New Year's Day (substitute day)"],
    ['2028-04-14', 'Good Friday'],
    ['2028-04-17', 'Easter Monday'],
    ['2028-05-01', 'Early May bank holiday'],
    ['2028-05-29', 'Spring bank holiday'],
    ['2028-08-28', 'Summer bank holiday'],
    ['2028-12-25', 'Christmas Day'],
    ['2028-12-26', 'Boxing Day'],
    // 2029
    ['2029-01-01', "New Year's Day"],
    ['2029-03-30', 'Good Friday'],
    ['2029-04-02', 'Easter Monday'],
    ['2029-05-07', 'Early May bank holiday'],
    ['2029-05-28', 'Spring bank holiday'],
    ['2029-08-27', 'Summer bank holiday'],
    ['2029-12-25', 'Christmas Day'],
    ['2029-12-26', 'Boxing Day'],
    // 2030
    ['2030-01-01', "New Year's Day"],
    ['2030-04-19', 'Good Friday'],
    ['2030-04-22', 'Easter Monday'],
    ['2030-05-06', 'Early May bank holiday'],
    ['2030-05-27', 'Spring bank holiday'],
    ['2030-08-26', 'Summer bank holiday'],
    ['2030-12-25', 'Christmas Day'],
    ['2030-12-26', 'Boxing Day'],
  ]),
  scotland: list([
    // 2026
    ['2026-01-01', "New Year's Day"],
    ['2026-01-02', '2nd January'],
    ['2026-04-03', 'Good Friday'],
    ['2026-05-04', 'Early May bank holiday'],
    ['2026-05-25', 'Spring bank holiday'],
    ['2026-08-03', 'Summer bank holiday'],
    ['2026-11-30', "St Andrew's Day"],
    ['2026-12-25', 'Christmas Day'],
    ['2026-12-28', 'Boxing Day (substitute day)'],
    // 2027
    ['2027-01-01', "New Year's Day"],
    ['2027-01-04', '2nd January (substitute day)'],
    ['2027-03-26', 'Good Friday'],
    ['2027-05-03', 'Early May bank holiday'],
    ['2027-05-31', 'Spring bank holiday'],
    ['2027-08-02', 'Summer bank holiday'],
    ['2027-11-30', "St Andrew's Day"],
    ['2027-12-27', 'Christmas Day (substitute day)'],
    ['2027-12-28', 'Boxing Day (substitute day)'],
    // 2028
    ['2028-01-03', "New Year's Day (substitute day)"],
    ['2028-01-04', '2nd January (substitute day)'],
    ['2028-04-14', 'Good Friday'],
    ['2028-05-01', 'Early May bank holiday'],
    ['2028-05-29', 'Spring bank holiday'],
    ['2028-08-07', 'Summer bank holiday'],
    ['2028-11-30', "St Andrew's Day"],
    ['2028-12-25', 'Christmas Day'],
    ['2028-12-26', 'Boxing Day'],
    // 2029
    ['2029-01-01', "New Year's Day"],
    ['2029-01-02', '2nd January'],
    ['2029-03-30', 'Good Friday'],
    ['2029-05-07', 'Early May bank holiday'],
    ['2029-05-28', 'Spring bank holiday'],
    ['2029-08-06', 'Summer bank holiday'],
    ['2029-11-30', "St Andrew's Day"],
    ['2029-12-25', 'Christmas Day'],
    ['2029-12-26', 'Boxing Day'],
    // 2030
    ['2030-01-01', "New Year's Day"],
    ['2030-01-02', '2nd January'],
    ['2030-04-19', 'Good Friday'],
    ['2030-05-06', 'Early May bank holiday'],
    ['2030-05-27', 'Spring bank holiday'],
    ['2030-08-05', 'Summer bank holiday'],
    ['2030-12-02', "St Andrew's Day (substitute day)"],
    ['2030-12-25', 'Christmas Day'],
    ['2030-12-26', 'Boxing Day'],
  ]),
  'northern-ireland': list([
    // 2026
    ['2026-01-01', "New Year's Day"],
    ['2026-03-17', "St Patrick's Day"],
    ['2026-04-03', 'Good Friday'],
    ['2026-04-06', 'Easter Monday'],
    ['2026-05-04', 'Early May bank holiday'],
    ['2026-05-25', 'Spring bank holiday'],
    ['2026-07-13', "Battle of the Boyne (Orangemen's Day) (substitute day)"],
    ['2026-08-31', 'Summer bank holiday'],
    ['2026-12-25', 'Christmas Day'],
    ['2026-12-28', 'Boxing Day (substitute day)'],
    // 2027
    ['2027-01-01', "New Year's Day"],
    ['2027-03-17', "St Patrick's Day"],
    ['2027-03-26', 'Good Friday'],
    ['2027-03-29', 'Easter Monday'],
    ['2027-05-03', 'Early May bank holiday'],
    ['2027-05-31', 'Spring bank holiday'],
    ['2027-07-12', "Battle of the Boyne (Orangemen's Day)"],
    ['2027-08-30', 'Summer bank holiday'],
    ['2027-12-27', 'Christmas Day (substitute day)'],
    ['2027-12-28', 'Boxing Day (substitute day)'],
    // 2028
    ['2028-01-03', "New Year's Day (substitute day)"],
    ['2028-03-17', "St Patrick's Day"],
    ['2028-04-14', 'Good Friday'],
    ['2028-04-17', 'Easter Monday'],
    ['2028-05-01', 'Early May bank holiday'],
    ['2028-05-29', 'Spring bank holiday'],
    ['2028-07-12', "Battle of the Boyne (Orangemen's Day)"],
    ['2028-08-28', 'Summer bank holiday'],
    ['2028-12-25', 'Christmas Day'],
    ['2028-12-26', 'Boxing Day'],
    // 2029
    ['2029-01-01', "New Year's Day"],
    ['2029-03-19', "St Patrick's Day (substitute day)"],
    ['2029-03-30', 'Good Friday'],
    ['2029-04-02', 'Easter Monday'],
    ['2029-05-07', 'Early May bank holiday'],
    ['2029-05-28', 'Spring bank holiday'],
    ['2029-07-12', "Battle of the Boyne (Orangemen's Day)"],
    ['2029-08-27', 'Summer bank holiday'],
    ['2029-12-25', 'Christmas Day'],
    ['2029-12-26', 'Boxing Day'],
    // 2030
    ['2030-01-01', "New Year's Day"],
    ['2030-03-18', "St Patrick's Day (substitute day)"],
    ['2030-04-19', 'Good Friday'],
    ['2030-04-22', 'Easter Monday'],
    ['2030-05-06', 'Early May bank holiday'],
    ['2030-05-27', 'Spring bank holiday'],
    ['2030-07-12', "Battle of the Boyne (Orangemen's Day)"],
    ['2030-08-26', 'Summer bank holiday'],
    ['2030-12-25', 'Christmas Day'],
    ['2030-12-26', 'Boxing Day'],
  ]),
};
