import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { IntlMessageFormat } from 'intl-messageformat';
import { type SmsCost, smsCost } from '../sms.js';

/** A 20-character name with a curly apostrophe and an emoji: it forces UCS-2 and costs 21 units. */
export const WORST_NAME = 'Zoë O’Connor-Smith 😀';
export const WORST_NUMBER = 10000;
const PLURALS = [0, 1, 2, 3, 5, 11, 22, 101, WORST_NUMBER];
const WORST_DATE = new Date(Date.UTC(2026, 8, 30, 23, 59));
/** Enough value sets to try every branch of ordinary messages without blowing up. */
const MAX_COMBINATIONS = 256;

type Value = string | number | Date;

function addCandidates(into: Map<string, Value[]>, name: string, values: readonly Value[]): void {
  const list = into.get(name) ?? [];
  for (const v of values) if (!list.includes(v)) list.push(v);
  into.set(name, list);
}

/** Values worth trying for each argument: every select branch, plural forms, long numbers. */
function candidates(elements: MessageFormatElement[], into: Map<string, Value[]>): void {
  for (const el of elements) {
    if (el.type === TYPE.argument) addCandidates(into, el.value, [WORST_NAME]);
    else if (el.type === TYPE.number) addCandidates(into, el.value, [WORST_NUMBER]);
    else if (el.type === TYPE.date || el.type === TYPE.time)
      addCandidates(into, el.value, [WORST_DATE]);
    else if (el.type === TYPE.plural) addCandidates(into, el.value, PLURALS);
    else if (el.type === TYPE.select) {
      const keys = Object.keys(el.options).map((k) => (k === 'other' ? WORST_NAME : k));
      addCandidates(into, el.value, keys);
    }
    if (el.type === TYPE.plural || el.type === TYPE.select) {
      for (const opt of Object.values(el.options)) candidates(opt.value, into);
    }
    if (el.type === TYPE.tag) candidates(el.children, into);
  }
}

/** The cartesian product of the candidates, capped. */
function valueSets(args: Map<string, Value[]>): Record<string, Value>[] {
  let sets: Record<string, Value>[] = [{}];
  for (const [name, values] of args) {
    sets = sets
      .flatMap((set) => values.map((v) => ({ ...set, [name]: v })))
      .slice(0, MAX_COMBINATIONS);
  }
  return sets;
}

export interface Rendered {
  text: string;
  cost: SmsCost;
}

const worse = (a: SmsCost, b: SmsCost): boolean =>
  a.segments > b.segments || (a.segments === b.segments && a.units > b.units);

/**
 * The costliest rendering of a message with worst-case variables, or undefined when it does not
 * format (malformed ICU or an unknown language; reported by the locale checks).
 */
export function renderWorst(source: string, lang: string): Rendered | undefined {
  try {
    const args = new Map<string, Value[]>();
    candidates(parse(source, { ignoreTag: true }), args);
    const format = new IntlMessageFormat(source, lang);
    let best: Rendered | undefined;
    for (const values of valueSets(args)) {
      const text = String(format.format(values)).trim();
      const cost = smsCost(text);
      if (!best || worse(cost, best.cost)) best = { text, cost };
    }
    return best;
  } catch {
    return undefined;
  }
}
