/**
 * `linkline report --from YYYY-MM-DD --to YYYY-MM-DD [--format json|csv]`: the managers'
 * figures for [from, to) in DEFAULT_TZ, suppressed (see src/reports/suppress.ts), on
 * stdout. Reads the database named by DATABASE_URL (or the PGlite in DATA_DIR).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config/load.js';
import { fieldErrors } from '../domain/booking/fields.js';
import { renderReport, reportRequestSchema } from '../reports/index.js';
import { dbOptionsOf, openDb } from '../store/db.js';
import type { Db } from '../store/db-port.js';
import { migrate } from '../store/migrate.js';

export interface ReportIo {
  out(text: string): void;
  err(text: string): void;
  /** A database to use (tests); otherwise it is opened from the configuration. */
  db?: Db;
  /** The service zone when `db` is given (tests); otherwise DEFAULT_TZ. */
  zone?: string;
  env?: Record<string, string | undefined>;
  now?: () => Date;
}

const stdio: ReportIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

export const REPORT_USAGE = `Usage: linkline report --from YYYY-MM-DD --to YYYY-MM-DD [--format json|csv]

Referrals by route, take-up, retention, provider cancellations, DNA, wellbeing change and
profile mix for the days from --from up to but not including --to, in DEFAULT_TZ.
Counts of 1 to 4 are shown as "<5" (see the README's Reports section).
`;

function parseReportArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  }).values;
}

async function open(io: ReportIo): Promise<{ db: Db; zone: string; close: () => Promise<void> }> {
  if (io.db) return { db: io.db, zone: io.zone ?? 'Europe/London', close: async () => {} };
  const config = loadConfig(io.env);
  const db = await openDb(dbOptionsOf(config.db));
  await migrate(db);
  return { db, zone: config.defaults.tz, close: () => db.close() };
}

/** Exit code: 0 printed, 1 unusable configuration, 2 usage (bad flags or dates). */
export async function runReport(argv: string[], io: ReportIo = stdio): Promise<number> {
  let values: ReturnType<typeof parseReportArgs>;
  try {
    values = parseReportArgs(argv);
  } catch (err) {
    io.err(`linkline report: ${(err as Error).message}\n\n${REPORT_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(REPORT_USAGE);
    return 0;
  }
  const { help: _help, ...given } = values;
  const parsed = reportRequestSchema.safeParse(given);
  if (!parsed.success) {
    for (const f of fieldErrors(parsed.error))
      io.err(`linkline report: --${f.path}: ${f.message}\n`);
    io.err(`\n${REPORT_USAGE}`);
    return 2;
  }
  let opened: Awaited<ReturnType<typeof open>>;
  try {
    opened = await open(io);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    io.err('linkline: invalid configuration (see `linkline config`):\n');
    for (const problem of err.problems) io.err(`${problem}\n`);
    return 1;
  }
  try {
    const now = io.now?.() ?? new Date();
    const report = await renderReport(opened.db, parsed.data, { zone: opened.zone, now });
    io.out(report.body);
    return 0;
  } finally {
    await opened.close();
  }
}
