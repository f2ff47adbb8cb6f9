import { readdir, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { type Catalog, formatProblem, loadCatalog } from '../catalog/load.js';
import type { Problem } from '../engine/index.js';
import { type CostRow, DEFAULT_SEGMENT_BUDGET, validateCatalog } from '../engine/validate/index.js';

/** Where the command writes; tests pass their own to capture output in-process. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
}

const stdio: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

const USAGE = `Usage: linkline flows validate [--flows DIR] [--locales DIR] [--report] [--budget N]

Checks every flow and locale file: schema, node references, reachability, loops, messages and
keywords in every locale, ICU syntax, placeholders, and SMS cost against a segment budget.

  --flows DIR     flow files (default ./flows)
  --locales DIR   locale files (default ./locales)
  --report        print every message's encoding and SMS segments, with totals per language
  --budget N      SMS segments a message may use (default ${DEFAULT_SEGMENT_BUDGET}); a flow's
                  segment_budget allows more for its own messages
`;

interface Options {
  flows: string;
  locales: string;
  report: boolean;
  budget: number;
  help: boolean;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      flows: { type: 'string', default: './flows' },
      locales: { type: 'string', default: './locales' },
      report: { type: 'boolean', default: false },
      budget: { type: 'string', default: String(DEFAULT_SEGMENT_BUDGET) },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const budget = Number(values.budget);
  if (!/^\d+$/.test(values.budget) || budget < 1) {
    throw new Error(
      `--budget must be a whole number of segments, 1 or more (got "${values.budget}")`,
    );
  }
  return { ...values, budget };
}

const isYaml = (name: string): boolean => ['.yaml', '.yml'].includes(extname(name));

/** A directory that is missing, not a directory, or holds no YAML is a problem to report. */
async function dirProblems(dir: string, what: string): Promise<Problem[]> {
  const problem = (code: string, message: string): Problem[] => [
    { file: dir, line: 1, column: 1, code, message },
  ];
  const info = await stat(dir).catch(() => undefined);
  if (!info) return problem('missing_dir', `the ${what} directory ${dir} does not exist`);
  if (!info.isDirectory()) return problem('missing_dir', `${dir} is not a directory`);
  const names = await readdir(dir).catch(() => [] as string[]);
  if (!names.some(isYaml)) return problem('empty_dir', `no .yaml files in the ${what} directory`);
  return [];
}

function byPlace(a: Problem, b: Problem): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return a.line - b.line || a.column - b.column || a.code.localeCompare(b.code);
}

function table(rows: readonly CostRow[]): string {
  const head = ['lang', 'key', 'encoding', 'segments', 'chars'];
  const cells = rows.map((r) => [r.lang, r.key, r.encoding, String(r.segments), String(r.chars)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]?.length ?? 0)));
  const line = (c: string[]): string =>
    c.map((v, i) => (i >= 3 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join('  ');
  return [head, ...cells].map((c) => `${line(c).trimEnd()}\n`).join('');
}

function totals(rows: readonly CostRow[]): string {
  const langs = [...new Set(rows.map((r) => r.lang))];
  return langs
    .map((lang) => {
      const mine = rows.filter((r) => r.lang === lang && r.kind === 'message');
      const segments = mine.reduce((sum, r) => sum + r.segments, 0);
      const ucs2 = mine.filter((r) => r.encoding === 'UCS-2').length;
      return `total ${lang}: ${mine.length} messages, ${segments} segments, ${ucs2} UCS-2\n`;
    })
    .join('');
}

function summary(problems: readonly Problem[], catalog: Catalog): string {
  const flows = Object.keys(catalog.flows).length;
  const locales = Object.keys(catalog.locales).length;
  const checked = `${flows} flow${flows === 1 ? '' : 's'}, ${locales} locale${locales === 1 ? '' : 's'}`;
  if (problems.length === 0) return `flows validate: ok (${checked})\n`;
  const files = new Set(problems.map((p) => p.file)).size;
  const count = `${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return `flows validate: ${count} in ${files} file${files === 1 ? '' : 's'} (${checked} parsed)\n`;
}

async function validate(options: Options, io: Io): Promise<number> {
  const problems = [
    ...(await dirProblems(options.flows, 'flows')),
    ...(await dirProblems(options.locales, 'locales')),
  ];
  const catalog = await loadCatalog(options.flows, options.locales);
  const result = validateCatalog(
    { flows: [...catalog.flowSources.values()], locales: [...catalog.localeSources.values()] },
    options.budget,
  );
  problems.push(...catalog.problems, ...result.problems);
  problems.sort(byPlace);
  const rows = [...result.rows].sort(
    (a, b) =>
      a.lang.localeCompare(b.lang) || (a.kind === b.kind ? 0 : a.kind === 'message' ? -1 : 1),
  );
  if (options.report) io.out(`${table(rows)}\n${totals(rows)}`);
  // One problem per line, whatever a message quotes from the file.
  const oneLine = (p: Problem): Problem => ({ ...p, message: p.message.replace(/\s*\n\s*/g, ' ') });
  if (problems.length === 0) {
    io.out(summary(problems, catalog));
    return 0;
  }
  io.err(problems.map((p) => `${formatProblem(oneLine(p))}\n`).join(''));
  io.err(summary(problems, catalog));
  return 1;
}

/** `linkline flows validate [--flows DIR] [--locales DIR] [--report] [--budget N]`. Returns the exit code. */
export async function runFlowsValidate(argv: string[], io: Io = stdio): Promise<number> {
  let options: Options;
  try {
    options = parseOptions(argv);
  } catch (error) {
    io.err(
      `linkline flows validate: ${error instanceof Error ? error.message : String(error)}\n\n`,
    );
    io.err(USAGE);
    return 2;
  }
  if (options.help) {
    io.out(USAGE);
    return 0;
  }
  try {
    return await validate(options, io);
  } catch (error) {
    // A bug of ours, not of the files: say so plainly, still without a stack trace.
    io.err(`linkline flows validate: internal error: ${(error as Error)?.message ?? error}\n`);
    return 1;
  }
}
