import type { Flow, LocaleSet } from '../engine/index.js';
import { type GlobalRules, type SimParticipant, Simulation } from './simulation.js';
import { describeStep, logBot, type Mismatch, runStep, type StepContext } from './steps.js';
import type { Transcript, TranscriptSource } from './transcript-schema.js';

export {
  parseTranscript,
  type Step,
  type Transcript,
  TranscriptError,
  type TranscriptSource,
} from './transcript-schema.js';

export interface TranscriptCatalog {
  flows: Readonly<Record<string, Flow>>;
  locales: LocaleSet;
}

export interface RunOptions {
  /** Run in this language only (one of `langs`, or instead of `lang`). */
  lang?: string | undefined;
  rules?: GlobalRules | undefined;
  source?: TranscriptSource | undefined;
  /** Called with each log line as it is made (the CLI prints them as they come). */
  onLog?: ((line: string) => void) | undefined;
}

export interface TranscriptResult {
  ok: boolean;
  failures: string[];
  log: string[];
}

/** The languages a transcript runs in: every `langs`, else its `lang` (undefined: default). */
export function transcriptLangs(t: Transcript, locales: LocaleSet): (string | undefined)[] {
  if (t.langs === 'all') return Object.keys(locales).sort();
  return t.langs ?? [t.lang];
}

function participantOf(t: Transcript): SimParticipant {
  const { name, ...rest } = t.participant ?? {};
  return name !== undefined && rest.first_name === undefined ? { ...rest, first_name: name } : rest;
}

function where(source: TranscriptSource | undefined, index: number): string {
  if (!source) return '';
  const line = source.lines[index];
  return line !== undefined ? `${source.file}:${line}: ` : `${source.file}: `;
}

function failure(head: string, m: Mismatch): string {
  return `${head}\n  expected: ${m.expected}\n  actual:   ${m.actual}`;
}

function precheck(t: Transcript, catalog: TranscriptCatalog, lang: string | undefined): string[] {
  const problems: string[] = [];
  if (!catalog.flows[t.flow]) problems.push(`no flow "${t.flow}" in the catalog`);
  if (lang !== undefined && !catalog.locales[lang]) {
    problems.push(`no locale "${lang}" (have: ${Object.keys(catalog.locales).sort().join(', ')})`);
  }
  return problems;
}

function simulationFor(
  t: Transcript,
  catalog: TranscriptCatalog,
  lang: string | undefined,
  opts: RunOptions,
): Simulation | string {
  const problems = precheck(t, catalog, lang);
  if (problems.length > 0) return problems.join('\n');
  try {
    return new Simulation({
      flows: catalog.flows,
      locales: catalog.locales,
      flow: t.flow,
      lang,
      participant: participantOf(t),
      context: t.context,
      zone: t.zone,
      start: t.start,
      rules: opts.rules,
    });
  } catch (error) {
    return (error as Error).message;
  }
}

/** Runs the steps in order; the first that does not hold ends the run with its failure. */
function runSteps(
  t: Transcript,
  ctx: StepContext,
  tag: string,
  opts: RunOptions,
): string | undefined {
  for (const [i, step] of t.steps.entries()) {
    let mismatch: Mismatch | undefined;
    try {
      mismatch = runStep(step, ctx);
    } catch (error) {
      mismatch = { expected: 'the step to run', actual: `error: ${(error as Error).message}` };
    }
    if (mismatch) {
      return failure(
        `${where(opts.source, i)}step ${i + 1} (${describeStep(step)}) [${tag}]`,
        mismatch,
      );
    }
  }
  return undefined;
}

/** Runs one language of a transcript, stopping at the first step that does not hold. */
function runOne(
  t: Transcript,
  catalog: TranscriptCatalog,
  lang: string | undefined,
  opts: RunOptions,
): TranscriptResult {
  const log: string[] = [];
  const say = (line: string): void => {
    log.push(line);
    opts.onLog?.(line);
  };
  const tag = lang ?? 'default language';
  const sim = simulationFor(t, catalog, lang, opts);
  if (typeof sim === 'string') {
    return { ok: false, failures: [`${where(opts.source, -1)}${sim}`], log };
  }
  say(`# ${t.flow} [${tag}] from ${sim.now.toFormat('ccc d LLL yyyy HH:mm ZZZZ')}`);
  const ctx: StepContext = { sim, cursor: { bot: 0, event: 0 }, log: say };
  sim.start();
  const failed = runSteps(t, ctx, tag, opts);
  if (failed !== undefined) return { ok: false, failures: [failed], log };
  const unchecked = sim.messages.slice(ctx.cursor.bot);
  if (unchecked.length > 0) say('-- not checked by the transcript:');
  for (const msg of unchecked) logBot(say, msg);
  say(`ok ${t.flow} [${tag}]: ${t.steps.length} steps`);
  return { ok: true, failures: [], log };
}

/**
 * Runs a transcript against a catalog: in `opts.lang` if given, else in each of its languages
 * in turn. Stops at the first mismatch, whose message shows what was expected and what
 * actually happened.
 */
export function runTranscript(
  t: Transcript,
  catalog: TranscriptCatalog,
  opts: RunOptions = {},
): TranscriptResult {
  const langs = opts.lang !== undefined ? [opts.lang] : transcriptLangs(t, catalog.locales);
  const all: TranscriptResult = { ok: true, failures: [], log: [] };
  for (const lang of langs) {
    const result = runOne(t, catalog, lang, opts);
    all.log.push(...result.log);
    if (!result.ok) return { ok: false, failures: result.failures, log: all.log };
  }
  return all;
}
