/**
 * Reads a CSV import file: one of activities, participants or bookings, told apart by the
 * header (see CSV_COLUMNS). Empty cells are omitted; numbers and yes/no are converted for
 * their columns; lists (days, communication_needs) are separated by ; or spaces.
 */
import { fieldErrors } from '../../domain/booking/fields.js';
import { parseCsv } from './csv.js';
import {
  type ImportDoc,
  type Located,
  type Problem,
  SECTION_SCHEMAS,
  type Section,
} from './records.js';

const SERIES = ['start_date', 'end_date', 'days', 'time', 'duration_minutes', 'rrule'] as const;

/** The columns each kind of CSV file may have; the first ones listed are required. */
export const CSV_COLUMNS: Record<Section, { required: string[]; optional: string[] }> = {
  activities: {
    required: ['key', 'name'],
    optional: [
      'description',
      'location',
      'what_to_bring',
      'greeter',
      'lead_slack_user',
      'lead_phone',
      'lead_lang',
      'capacity',
      'booking_mode',
      'access',
      'status',
      'same_day_reminder',
      'activity_type',
      'tz',
      ...SERIES,
    ],
  },
  participants: {
    required: ['phone'],
    optional: [
      'key',
      'ref',
      'first_name',
      'preferred_lang',
      'tz',
      'quiet_start',
      'quiet_end',
      'age_band',
      'gender',
      'ethnicity',
      'ltc',
      'mh_need',
      'postcode_part',
      'referral_route',
      'primary_reason',
      'communication_needs',
      'digital_access',
      'best_time',
    ],
  },
  bookings: { required: ['participant', 'activity'], optional: ['session'] },
};

const NUMBERS = new Set(['capacity', 'duration_minutes']);
const BOOLEANS = new Set(['same_day_reminder']);
const LISTS = new Set(['days', 'communication_needs']);

function detect(header: string[]): Section | undefined {
  const has = (c: string) => header.includes(c);
  if (has('participant') && has('activity')) return 'bookings';
  if (has('key') && has('name')) return 'activities';
  if (has('phone')) return 'participants';
  return undefined;
}

function cellValue(column: string, raw: string): unknown {
  const text = raw.trim();
  if (NUMBERS.has(column) && /^\d+$/.test(text)) return Number(text);
  if (BOOLEANS.has(column) && /^(yes|true|1|y)$/i.test(text)) return true;
  if (BOOLEANS.has(column) && /^(no|false|0|n)$/i.test(text)) return false;
  if (LISTS.has(column)) return text.split(/[;\s]+/).filter((s) => s !== '');
  return text;
}

/** A flat row to the record shape: the series columns nest under `series`. */
function toRecord(section: Section, row: Record<string, unknown>): Record<string, unknown> {
  if (section !== 'activities') return row;
  const { start_date, end_date, days, time, duration_minutes, rrule, ...rest } = row;
  if ([start_date, end_date, days, time, duration_minutes, rrule].every((v) => v === undefined)) {
    return rest;
  }
  const series: Record<string, unknown> = { start_date, end_date, rrule };
  if (rrule === undefined) series.weekly = { days, time, duration_minutes };
  else Object.assign(series, { time, duration_minutes });
  return { ...rest, series: JSON.parse(JSON.stringify(series)) };
}

/** Problems on the record's fields are named by CSV column: series.weekly.time -> time. */
function columnOf(path: string): string {
  const last =
    path
      .split('.')
      .filter((p) => !/^\d+$/.test(p))
      .pop() ?? '';
  return path.startsWith('series') ? last : path;
}

function headerProblems(section: Section, header: string[]): Problem[] {
  const { required, optional } = CSV_COLUMNS[section];
  const known = [...required, ...optional];
  const unknown = header.filter((c) => !known.includes(c));
  const missing = required.filter((c) => !header.includes(c));
  const dup = header.filter((c, i) => header.indexOf(c) !== i);
  return [
    ...unknown.map((c) => `unknown column "${c}" (${section} columns: ${known.join(', ')})`),
    ...missing.map((c) => `missing column "${c}"`),
    ...dup.map((c) => `column "${c}" appears twice`),
  ].map((message) => ({ line: 1, path: '', message }));
}

/** Parses and validates a CSV import file; never throws for bad input. */
export function readCsvImport(text: string): { doc?: ImportDoc; problems: Problem[] } {
  const parsed = parseCsv(text);
  if ('error' in parsed) return { problems: [{ ...parsed.error, path: '' }] };
  const [head, ...rows] = parsed.records;
  const header = head?.cells.map((c) => c.trim().toLowerCase()) ?? [];
  const section = detect(header);
  if (!section) {
    const message = `cannot tell the file's kind from its header: activities need key,name; participants need phone; bookings need participant,activity`;
    return { problems: [{ line: head?.line ?? 1, path: '', message }] };
  }
  const problems = headerProblems(section, header);
  if (problems.length > 0) return { problems };
  const doc: ImportDoc = { activities: [], participants: [], bookings: [] };
  const list = doc[section] as Located<unknown>[];
  for (const { line, cells } of rows) {
    if (cells.length !== header.length) {
      problems.push({
        line,
        path: '',
        message: `expected ${header.length} cells, found ${cells.length}`,
      });
      continue;
    }
    const row = Object.fromEntries(
      header.flatMap((c, i) => (cells[i]!.trim() === '' ? [] : [[c, cellValue(c, cells[i]!)]])),
    );
    const result = SECTION_SCHEMAS[section].safeParse(toRecord(section, row));
    if (result.success) list.push({ line, value: result.data });
    else
      problems.push(
        ...fieldErrors(result.error).map((f) => ({
          line,
          path: columnOf(f.path),
          message: f.message,
        })),
      );
  }
  return problems.length > 0 ? { problems } : { doc, problems: [] };
}
