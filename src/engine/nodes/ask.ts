import { parseDuration } from '../duration.js';
import { messageValues } from '../expr.js';
import type { AskNode } from '../flow-schema.js';
import { fallbackChain } from '../i18n.js';
import type { Locale } from '../locale-schema.js';
import {
  firstReading,
  isSkip,
  matchChoice,
  matchNumber,
  matchYesNo,
  type ReplyMatch,
} from '../reply.js';
import { addText, emit, type Sprint, type Step } from '../sprint.js';
import { requestHandoff } from './handoff.js';

/** Shown before the question again when a reply is not understood and the ask has no hint. */
export const NOT_UNDERSTOOD_KEY = 'common.not_understood';

function ask(node: AskNode, sprint: Sprint): Step | undefined {
  return addText(sprint, node.text, messageValues(sprint.session, node.vars));
}

/** Sends the question and waits for the reply, with its timeout and expiry as data. */
export function enterAsk(node: AskNode, sprint: Sprint): Step {
  const failed = ask(node, sprint);
  if (failed) return failed;
  const { env } = sprint;
  const id = env.newId();
  const expiresAt =
    env.now
      .plus(parseDuration(node.expires ?? env.defaultExpiry ?? '7d'))
      .toUTC()
      .toISO() ?? '';
  const timeoutAt = node.timeout
    ? (env.now.plus(parseDuration(node.timeout.after)).toUTC().toISO() ?? '')
    : undefined;
  sprint.session.wait = {
    id,
    kind: 'reply',
    expires_at: expiresAt,
    tries: 0,
    ...(timeoutAt !== undefined ? { timeout_at: timeoutAt } : {}),
  };
  emit(sprint, {
    type: 'wait_started',
    wait_id: id,
    kind: 'reply',
    expires_at: expiresAt,
    ...(timeoutAt !== undefined ? { timeout_at: timeoutAt } : {}),
  });
  return { kind: 'wait' };
}

const OUTWARD = '[A-Z]{1,2}[0-9][0-9A-Z]?';
const FULL_POSTCODE = new RegExp(`^(${OUTWARD})[0-9][A-Z]{2}$`);
const OUTWARD_ONLY = new RegExp(`^${OUTWARD}$`);

/**
 * The first part (outward code) of a UK postcode, from either a full postcode ("m16 0ra",
 * "M160RA") or the first part alone ("ls6"); undefined for anything else. Only the first part
 * is ever kept.
 */
export function outwardPostcode(text: string): string | undefined {
  const compact = text.toUpperCase().replace(/[\s.-]+/g, '');
  return FULL_POSTCODE.exec(compact)?.[1] ?? (OUTWARD_ONLY.test(compact) ? compact : undefined);
}

function localesFor(sprint: Sprint): { primary: Locale[]; fallback: Locale[] } {
  const { env, session } = sprint;
  const all = fallbackChain(session.lang, env.defaultLang)
    .map((l) => env.locales[l])
    .filter((l): l is Locale => l !== undefined);
  return { primary: all.slice(0, 1), fallback: all.slice(1) };
}

function read(node: AskNode, text: string, locales: readonly Locale[]): ReplyMatch {
  switch (node.kind) {
    case 'choice':
      return matchChoice(text, node.options, locales);
    case 'yes_no':
      return matchYesNo(text, locales);
    case 'number': {
      const m = matchNumber(text, locales);
      if (m.kind !== 'match') return m;
      const n = Number(m.value);
      return n >= node.min && n <= node.max ? m : { kind: 'none' };
    }
    case 'text': {
      const trimmed = text.trim();
      if (node.format === 'outward_postcode') {
        const outward = outwardPostcode(trimmed);
        return outward ? { kind: 'match', value: outward } : { kind: 'none' };
      }
      return trimmed.length > 0 && trimmed.length <= node.max_length
        ? { kind: 'match', value: trimmed }
        : { kind: 'none' };
    }
  }
}

function nextAfter(node: AskNode, value: string | number): string | undefined {
  if (node.kind === 'choice') return node.options.find((o) => o.value === value)?.next ?? node.next;
  if (node.kind === 'yes_no') return (value === 'yes' ? node.yes : node.no) ?? node.next;
  return node.next;
}

function invalid(node: AskNode, sprint: Sprint): Step {
  const wait = sprint.session.wait;
  const tries = (wait?.tries ?? 0) + 1;
  const limit = node.on_invalid?.tries ?? 2;
  if (tries >= limit) {
    const then = node.on_invalid?.then;
    return then !== undefined
      ? { kind: 'next', node: then }
      : requestHandoff(sprint, 'not_understood', 'normal', node.id);
  }
  if (wait) wait.tries = tries;
  const hint = node.on_invalid?.hint;
  const failed =
    hint !== undefined
      ? addText(sprint, hint, {})
      : (addText(sprint, NOT_UNDERSTOOD_KEY, {}) ?? ask(node, sprint));
  return failed ?? { kind: 'wait' };
}

/** Reads a reply to a waiting ask: an answer moves on, anything else re-prompts. */
export function resumeAsk(node: AskNode, sprint: Sprint, text: string): Step {
  const { primary, fallback } = localesFor(sprint);
  const saveAs = node.save_as ?? node.id;
  if (node.skippable && (isSkip(text, primary) || isSkip(text, fallback))) {
    delete sprint.session.answers[saveAs];
    return { kind: 'next', node: node.on_skip ?? node.next };
  }
  const result =
    node.kind === 'text'
      ? read(node, text, primary)
      : firstReading((l) => read(node, text, l), primary, fallback);
  if (result.kind !== 'match') return invalid(node, sprint);
  sprint.session.answers[saveAs] = result.value;
  return { kind: 'next', node: nextAfter(node, result.value) };
}
