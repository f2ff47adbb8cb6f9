/**
 * `linkline import FILE [--dry-run]`: activities (with series), participants and bookings
 * from YAML or CSV. Everything is validated first (each problem as file:line), then
 * written in ONE transaction: a file with any problem writes nothing. --dry-run does all
 * the work, database checks included, and rolls back.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { inBookingTx } from '../domain/booking/changes.js';
import type { PlanPolicy } from '../domain/schedule/plan-policy.js';
import { dbOptionsOf, openDb } from '../store/db.js';
import type { Db } from '../store/db-port.js';
import { migrate } from '../store/migrate.js';
import { applyImport, type ImportSummary } from './import/apply.js';
import { CSV_COLUMNS, readCsvImport } from './import/csv-source.js';
import {
  duplicateProblems,
  formatProblem,
  type ImportDoc,
  type Problem,
} from './import/records.js';
import { readYamlImport } from './import/yaml-source.js';

export interface ImportIo {
  out(text: string): void;
  err(text: string): void;
  /** A database to use (tests); otherwise it is opened from the configuration and migrated. */
  db?: Db;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

const stdio: ImportIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const csvHelp = Object.entries(CSV_COLUMNS)
  .map(([kind, c]) => `  ${kind}.csv: ${[...c.required, ...c.optional].join(',')}`)
  .join('\n');

export const IMPORT_USAGE = `Usage: linkline import FILE [--dry-run]

Imports activities (with optional series of sessions), participants and bookings from a
YAML file (lists under activities:, participants:, bookings:) or one CSV file (its kind is
told by the header; required columns first):
${csvHelp}
Every problem is printed as FILE:LINE and nothing is written unless the whole file is good.
  --dry-run   check everything, including against the database, and write nothing
`;

/** Thrown inside the transaction to roll it back. */
class Rollback extends Error {
  constructor(readonly problems: Problem[]) {
    super('rollback');
  }
}

function readDoc(file: string, text: string): { doc?: ImportDoc; problems: Problem[] } {
  const ext = extname(file).toLowerCase();
  if (ext === '.csv') return readCsvImport(text);
  if (ext === '.yaml' || ext === '.yml') return readYamlImport(text);
  return { problems: [{ line: 1, path: '', message: 'expected a .yaml, .yml or .csv file' }] };
}

function describe(s: ImportSummary): string {
  const b = s.bookings;
  return [
    `activities: ${s.activities.created} created, ${s.activities.updated} updated`,
    `sessions: ${s.sessions.created} created, ${s.sessions.existing} already there`,
    `participants: ${s.participants.created} created, ${s.participants.updated} updated`,
    `bookings: ${b.booked} booked, ${b.waitlisted} waitlisted, ${b.unchanged} already booked`,
  ].join('\n');
}

interface Opened {
  db: Db;
  close: () => Promise<void>;
  /**
   * config.planPolicy (REMINDER_DAY_BEFORE_AT, LEAD_SUMMARY_AT, CHECKIN_WEEKS), for the
   * reminders and check-ins a booking (re)plans; unset with a test's database: the defaults.
   */
  policy?: Partial<PlanPolicy>;
}

async function openConfiguredDb(io: ImportIo): Promise<Opened> {
  if (io.db) return { db: io.db, close: async () => {} };
  const config = loadConfig(io.env);
  const db = await openDb(dbOptionsOf(config.db));
  await migrate(db);
  return { db, close: () => db.close(), policy: config.planPolicy };
}

async function write(
  db: Db,
  doc: ImportDoc,
  opts: { dryRun: boolean; now: Date; policy?: Partial<PlanPolicy> | undefined },
): Promise<{ summary?: ImportSummary; problems: Problem[] }> {
  const policy = opts.policy === undefined ? {} : { policy: opts.policy };
  try {
    const summary = await inBookingTx(
      db,
      { now: opts.now, actor: 'import', ...policy },
      async (tx, ctx) => {
        const { summary, problems } = await applyImport(tx, doc, ctx);
        if (problems.length > 0 || opts.dryRun) throw new Rollback(problems);
        return summary;
      },
    );
    return { summary, problems: [] };
  } catch (err) {
    if (!(err instanceof Rollback)) throw err;
    return { problems: err.problems };
  }
}

function report(io: ImportIo, file: string, problems: Problem[]): number {
  const sorted = [...problems].sort((a, b) => a.line - b.line);
  for (const p of sorted) io.err(`${formatProblem(file, p)}\n`);
  io.err(`${problems.length} problem${problems.length === 1 ? '' : 's'}: nothing was imported\n`);
  return 1;
}

/** The database, or null after printing why the configuration is unusable. */
async function openOrReport(io: ImportIo): Promise<Opened | null> {
  try {
    return await openConfiguredDb(io);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err('linkline: invalid configuration (see `linkline config`):\n');
    for (const problem of err.problems) io.err(`${problem}\n`);
    return null;
  }
}

async function importFile(file: string, dryRun: boolean, io: ImportIo): Promise<number> {
  const name = basename(file);
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) {
    return report(io, name, [{ line: 1, path: '', message: 'cannot read the file' }]);
  }
  const { doc, problems } = readDoc(file, text);
  const all = doc ? [...problems, ...duplicateProblems(doc)] : problems;
  if (!doc || all.length > 0) return report(io, name, all);
  const opened = await openOrReport(io);
  if (!opened) return 1;
  try {
    const result = await write(opened.db, doc, {
      dryRun,
      now: io.now?.() ?? new Date(),
      policy: opened.policy,
    });
    if (result.problems.length > 0) return report(io, name, result.problems);
    io.out(
      dryRun
        ? `${name}: dry run, nothing written; the file is good\n`
        : `${name}: imported\n${describe(result.summary!)}\n`,
    );
    return 0;
  } finally {
    await opened.close();
  }
}

/** Exit code: 0 imported (or a good dry run), 1 problems in the file, 2 usage. */
export async function runImport(argv: string[], io: ImportIo = stdio): Promise<number> {
  let parsed: ReturnType<typeof parseImportArgs>;
  try {
    parsed = parseImportArgs(argv);
  } catch (err) {
    io.err(`linkline import: ${(err as Error).message}\n\n${IMPORT_USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.out(IMPORT_USAGE);
    return 0;
  }
  return importFile(parsed.file, parsed.dryRun, io);
}

function parseImportArgs(argv: string[]): { file: string; dryRun: boolean; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      'dry-run': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return { file: '', dryRun: false, help: true };
  if (positionals.length !== 1) throw new Error('give exactly one FILE');
  return { file: positionals[0]!, dryRun: values['dry-run'], help: false };
}
