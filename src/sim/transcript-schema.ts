import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { SIM_DURATION } from './duration.js';

/** `(?i)` and friends at the start of a pattern become JavaScript flags. */
export function compilePattern(pattern: string): RegExp {
  const m = /^\(\?([imsu]+)\)/.exec(pattern);
  const flags = new Set([...(m?.[1] ?? ''), 'u']);
  return new RegExp(m ? pattern.slice(m[0].length) : pattern, [...flags].join(''));
}

const pattern = z.string().refine(
  (p) => {
    try {
      compilePattern(p);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a regular expression, optionally starting with (?i)' },
);

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const stepFields = {
  /** The next unread bot message matches this pattern. */
  bot: pattern,
  /** The next unread bot message was rendered from this locale key (with `bot:`: the same one). */
  key: z.string(),
  say: z.union([z.string(), z.number()]).transform(String),
  advance: z.string().regex(SIM_DURATION, 'must be a duration like 30m, 25h, 1d or 1d 2h'),
  /** An event of this type (or partly matching this object) came after the last one matched. */
  event: z.union([z.string(), z.looseObject({ type: z.string() })]),
  /** No event of this type came after the last one matched. */
  no_event: z.string(),
  no_bot: z.literal(true),
  /** The session's answers include these; `null` means the answer is absent. */
  answer: z.record(z.string(), scalar),
  /** The session's participant context includes these (deep, partial). */
  participant: z.record(z.string(), z.unknown()),
  status: z.enum(['waiting', 'handed_off', 'ended']),
  /** The session is at this node. */
  node: z.string(),
  handback: z.strictObject({ resume: z.boolean(), node: z.string().optional() }),
};

const rawStep = z.strictObject(stepFields).partial();
type Raw = z.output<typeof rawStep>;
type Fields = { [K in keyof Raw]-?: Exclude<Raw[K], undefined> };
type StepKind = Exclude<keyof Fields, 'key'> | 'bot';

/** One step of a transcript, by kind. `bot` covers `bot:`, `key:` or both on one message. */
export type Step =
  | { kind: 'bot'; pattern?: string; key?: string }
  | { [K in Exclude<StepKind, 'bot'>]: { kind: K; value: Fields[K] } }[Exclude<StepKind, 'bot'>];

function toStep(raw: Raw, ctx: z.RefinementCtx<Raw>): Step {
  const kinds = Object.keys(raw).map((k) => (k === 'key' ? 'bot' : k)) as StepKind[];
  const distinct = [...new Set(kinds)];
  const [kind] = distinct;
  if (distinct.length !== 1 || kind === undefined) {
    ctx.addIssue({
      code: 'custom',
      message: `a step has exactly one of ${Object.keys(stepFields).join(', ')} (bot and key may go together); got ${Object.keys(raw).join(', ') || 'nothing'}`,
    });
    return { kind: 'bot' };
  }
  if (kind === 'bot') {
    return {
      kind,
      ...(raw.bot !== undefined ? { pattern: raw.bot } : {}),
      ...(raw.key !== undefined ? { key: raw.key } : {}),
    };
  }
  return { kind, value: raw[kind] } as Step;
}

export const stepSchema = rawStep.transform(toStep);

const participantSchema = z.looseObject({
  phone: z.string().optional(),
  /** Short for first_name. */
  name: z.string().optional(),
  first_name: z.string().optional(),
  preferred_lang: z.string().optional(),
  tags: z.array(z.string()).optional(),
  fields: z.record(z.string(), z.unknown()).optional(),
});

export const transcriptSchema = z
  .strictObject({
    description: z.string().optional(),
    flow: z.string(),
    lang: z.string().optional(),
    /** Run once per language: `all` shipped locales, or a list. */
    langs: z.union([z.literal('all'), z.array(z.string()).min(1)]).optional(),
    participant: participantSchema.optional(),
    /** What the trigger knows besides the participant: a reminder's booking, session and activity. */
    context: z
      .strictObject({
        booking: z.record(z.string(), z.unknown()).optional(),
        session: z.record(z.string(), z.unknown()).optional(),
        activity: z.record(z.string(), z.unknown()).optional(),
        link_worker: z.record(z.string(), z.unknown()).optional(),
        trigger: z
          .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
          .optional(),
      })
      .optional(),
    zone: z.string().optional(),
    /** Local date-time in `zone` the clock starts at, e.g. 2026-03-28T10:00. */
    start: z.string().optional(),
    steps: z.array(stepSchema).min(1),
  })
  .refine((t) => t.lang === undefined || t.langs === undefined, {
    message: 'use lang or langs, not both',
    path: ['langs'],
  });

export type Transcript = z.output<typeof transcriptSchema>;

/** Where a transcript came from, to point failures at the step's line. */
export interface TranscriptSource {
  file: string;
  /** 1-based line of each step. */
  lines: readonly number[];
}

export class TranscriptError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'TranscriptError';
  }
}

/** Parses and validates a transcript file's text; throws TranscriptError with file:line:col. */
export function parseTranscript(
  text: string,
  file: string,
): { transcript: Transcript; source: TranscriptSource } {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, uniqueKeys: true, prettyErrors: false });
  const at = (path: readonly PropertyKey[]): { line: number; col: number } => {
    for (let depth = path.length; depth >= 0; depth--) {
      const node = doc.getIn(path.slice(0, depth) as unknown[], true);
      if (isNode(node) && node.range) return counter.linePos(node.range[0]);
    }
    return { line: 1, col: 1 };
  };
  if (doc.errors.length > 0) {
    throw new TranscriptError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return `${file}:${pos.line}:${pos.col}: ${e.message}`;
      }),
    );
  }
  const result = transcriptSchema.safeParse(doc.toJS());
  if (!result.success) {
    // One problem per place: an unknown key also leaves the step without an action.
    const seen = new Set<string>();
    const issues = result.error.issues.filter((i) => {
      const key = i.path.join('.');
      return !seen.has(key) && seen.add(key);
    });
    throw new TranscriptError(
      issues.map((i) => {
        const { line, col } = at(i.path);
        return `${file}:${line}:${col}: ${i.path.join('.') || '(top)'}: ${i.message}`;
      }),
    );
  }
  const lines = result.data.steps.map((_, i) => at(['steps', i]).line);
  return { transcript: result.data, source: { file, lines } };
}
