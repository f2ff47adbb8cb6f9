import { readFile } from 'node:fs/promises';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type Catalog, formatProblem, loadCheckedCatalog } from '../catalog/load.js';
import { Simulation } from '../sim/simulation.js';
import { parseTranscript, runTranscript, TranscriptError } from '../sim/transcript.js';
import { PLAY_HELP, play } from './simulate-play.js';

const USAGE = `Usage: linkline simulate <flow> [options]

Plays a flow as a participant against the real engine, with a virtual clock.

Options:
  --lang L         language to play or test in (default: the participant's, then en)
  --script FILE    run a transcript instead of playing; exit 1 at the first mismatch
  --flows DIR      flow files (default: flows)
  --locales DIR    locale files (default: locales)
  --zone ZONE      participant's IANA time zone (default: Europe/London)
  --start TIME     local time the clock starts at (default: 2026-11-24T10:00)
  -h, --help       this help

${PLAY_HELP}
`;

/** Streams to use instead of the process's own (tests pass their own). */
export interface SimulateIo {
  input?: Readable;
  output?: Writable;
  error?: Writable;
}

const OPTIONS = {
  lang: { type: 'string' },
  script: { type: 'string' },
  flows: { type: 'string', default: 'flows' },
  locales: { type: 'string', default: 'locales' },
  zone: { type: 'string' },
  start: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<
  typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>
>['values'];

interface Out {
  out: (text: string) => void;
  err: (text: string) => void;
}

function lines(stream: Writable): (text: string) => void {
  return (text) => stream.write(text.endsWith('\n') ? text : `${text}\n`);
}

function parse(argv: string[]): { values: Values; flow: string | undefined } | string {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length > 1) return `one flow at a time (got ${positionals.join(', ')})`;
    return { values, flow: positionals[0] };
  } catch (error) {
    return (error as Error).message;
  }
}

async function catalogOrReport(values: Values, io: Out): Promise<Catalog | null> {
  const catalog = await loadCheckedCatalog(values.flows, values.locales);
  if (catalog.problems.length > 0) {
    for (const p of catalog.problems) io.err(formatProblem(p));
    io.err(`linkline simulate: ${catalog.problems.length} problem(s) in flows or locales`);
    return null;
  }
  if (Object.keys(catalog.flows).length === 0) {
    io.err(`linkline simulate: no flows in ${values.flows}`);
    return null;
  }
  return catalog;
}

async function runScript(
  file: string,
  flow: string | undefined,
  values: Values,
  catalog: Catalog,
  io: Out,
): Promise<number> {
  let parsed: ReturnType<typeof parseTranscript>;
  try {
    parsed = parseTranscript(await readFile(file, 'utf8'), file);
  } catch (error) {
    const problems = error instanceof TranscriptError ? error.problems : [(error as Error).message];
    for (const p of problems) io.err(p);
    return 1;
  }
  const { transcript, source } = parsed;
  if (flow !== undefined && flow !== transcript.flow) {
    io.err(`linkline simulate: ${file} is a transcript of flow ${transcript.flow}, not ${flow}`);
    return 2;
  }
  const overridden = {
    ...transcript,
    ...(values.zone !== undefined ? { zone: values.zone } : {}),
    ...(values.start !== undefined ? { start: values.start } : {}),
  };
  const result = runTranscript(overridden, catalog, { lang: values.lang, source, onLog: io.out });
  if (!result.ok) {
    for (const f of result.failures) io.err(`FAIL ${f}`);
    return 1;
  }
  io.out(`PASS ${file}`);
  return 0;
}

function startPlaying(flow: string, values: Values, catalog: Catalog, io: Out): Simulation | null {
  if (!catalog.flows[flow]) {
    io.err(
      `linkline simulate: no flow "${flow}" (have: ${Object.keys(catalog.flows).sort().join(', ')})`,
    );
    return null;
  }
  if (values.lang !== undefined && !catalog.locales[values.lang]) {
    io.err(
      `linkline simulate: no locale "${values.lang}" (have: ${Object.keys(catalog.locales).sort().join(', ')})`,
    );
    return null;
  }
  try {
    return new Simulation({
      flows: catalog.flows,
      locales: catalog.locales,
      flow,
      lang: values.lang,
      zone: values.zone,
      start: values.start,
    });
  } catch (error) {
    io.err(`linkline simulate: ${(error as Error).message}`);
    return null;
  }
}

/** `linkline simulate <flow> [--lang L] [--script FILE] [--flows DIR] [--locales DIR]`. */
export async function runSimulate(argv: string[], streams: SimulateIo = {}): Promise<number> {
  const output = streams.output ?? process.stdout;
  const io: Out = { out: lines(output), err: lines(streams.error ?? process.stderr) };
  const args = parse(argv);
  if (typeof args === 'string' || (!args.values.help && !args.flow && !args.values.script)) {
    io.err(`linkline simulate: ${typeof args === 'string' ? args : 'which flow?'}\n`);
    io.err(USAGE);
    return 2;
  }
  const { values, flow } = args;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  const catalog = await catalogOrReport(values, io);
  if (!catalog) return 1;
  if (values.script !== undefined) return runScript(values.script, flow, values, catalog, io);
  const sim = startPlaying(flow ?? '', values, catalog, io);
  if (!sim) return 1;
  return play(sim, streams.input ?? process.stdin, output);
}
