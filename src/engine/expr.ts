import type { Condition } from './flow-schema.js';
import type { Session } from './session.js';

/** Declarative variables and conditions: paths into the session, never code. */

export function resolveVar(session: Session, path: string): unknown {
  const dot = path.indexOf('.');
  const scope = path.slice(0, dot);
  const name = path.slice(dot + 1);
  const ctx = session.context;
  switch (scope) {
    case 'answers':
      return session.answers[name];
    case 'fields':
      return ctx.participant.fields[name];
    case 'participant':
      return ctx.participant[name];
    case 'booking':
    case 'session':
    case 'activity':
    case 'link_worker':
    case 'trigger':
      return ctx[scope]?.[name];
    default:
      return undefined;
  }
}

const VAR_PATH =
  /^(participant|booking|session|activity|answers|fields|trigger|link_worker)\.[a-z0-9_]+$/;

/** A `vars`/`value` entry is a variable path when it looks like one; otherwise a literal. */
export function refValue(session: Session, ref: string | number | boolean): unknown {
  return typeof ref === 'string' && VAR_PATH.test(ref) ? resolveVar(session, ref) : ref;
}

/** Message values: strings and numbers only; anything absent is left out (reported by i18n). */
export function messageValues(
  session: Session,
  vars: Record<string, string | number | boolean> | undefined,
): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [name, ref] of Object.entries(vars ?? {})) {
    const v = refValue(session, ref);
    if (typeof v === 'number' || typeof v === 'string') out[name] = v;
    else if (typeof v === 'boolean') out[name] = v ? 'yes' : 'no';
  }
  return out;
}

function compare(actual: unknown, expected: unknown): boolean {
  if (typeof expected === 'number' && typeof actual === 'string' && actual.trim() !== '') {
    return Number(actual) === expected;
  }
  return actual === expected;
}

function num(v: unknown): number | undefined {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

function testVar(session: Session, c: Extract<Condition, { var: string }>): boolean {
  const v = resolveVar(session, c.var);
  const present = v !== undefined && v !== null && v !== '';
  const n = num(v);
  const checks: boolean[] = [];
  if (c.exists !== undefined) checks.push(present === c.exists);
  if (c.eq !== undefined) checks.push(compare(v, c.eq));
  if (c.ne !== undefined) checks.push(!compare(v, c.ne));
  if (c.in !== undefined) checks.push(c.in.some((x) => compare(v, x)));
  if (c.lt !== undefined) checks.push(n !== undefined && n < c.lt);
  if (c.lte !== undefined) checks.push(n !== undefined && n <= c.lte);
  if (c.gt !== undefined) checks.push(n !== undefined && n > c.gt);
  if (c.gte !== undefined) checks.push(n !== undefined && n >= c.gte);
  return checks.length === 0 ? present : checks.every(Boolean);
}

export function evaluate(session: Session, c: Condition): boolean {
  if ('var' in c) return testVar(session, c);
  if ('tag' in c) return session.context.participant.tags.includes(c.tag);
  if ('all' in c) return c.all.every((x) => evaluate(session, x));
  if ('any' in c) return c.any.some((x) => evaluate(session, x));
  return !evaluate(session, c.not);
}
