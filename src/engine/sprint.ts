import type { Env } from './env.js';
import type { EngineEvent } from './events.js';
import type { Flow, FlowNode } from './flow-schema.js';
import { render } from './i18n.js';
import type { Frame, Session } from './session.js';
import { smsCost } from './sms.js';

/** One engine call in progress: the session being changed and the events it has produced. */
export interface Sprint {
  session: Session;
  events: EngineEvent[];
  env: Env;
  at: string;
  steps: number;
  /** Text for this turn, sent as one SMS when the sprint stops. */
  pending: { keys: string[]; parts: string[]; lang: string | undefined; index: number };
}

/** What a node does next. */
export type Step =
  | { kind: 'next'; node: string | undefined }
  | { kind: 'wait' }
  | { kind: 'end'; status: 'completed' | 'interrupted' | 'expired' }
  | { kind: 'enter'; flow: string; node?: string | undefined; push?: Frame }
  | { kind: 'fail'; code: string; detail: string };

export function newSprint(session: Session, env: Env): Sprint {
  return {
    session,
    events: [],
    env,
    at: env.now.toUTC().toISO() ?? '',
    steps: 0,
    pending: { keys: [], parts: [], lang: undefined, index: 0 },
  };
}

type Dist<T> = T extends unknown ? Omit<T, 'at'> : never;

export function emit(sprint: Sprint, event: Dist<EngineEvent>): void {
  sprint.events.push({ ...event, at: sprint.at } as EngineEvent);
}

/**
 * Adds a message to this turn's SMS. All text of one turn goes out as one SMS (Twilio does not
 * keep the order of separate messages), placed in the event list where its first part was made.
 * Returns a failure step when no language has the text.
 */
export function addText(
  sprint: Sprint,
  key: string,
  values: Record<string, string | number>,
): Step | undefined {
  const { env, session } = sprint;
  const result = render(env.locales, key, values, session.lang, env.defaultLang);
  for (const e of result.errors) emit(sprint, { type: 'error', code: e.code, detail: e.detail });
  if (!result.ok)
    return { kind: 'fail', code: 'message_unavailable', detail: `no text for ${key}` };
  if (sprint.pending.parts.length === 0) sprint.pending.index = sprint.events.length;
  sprint.pending.keys.push(key);
  sprint.pending.parts.push(result.text);
  sprint.pending.lang ??= result.lang;
  return undefined;
}

export function flush(sprint: Sprint): void {
  const { keys, parts, lang, index } = sprint.pending;
  if (parts.length === 0) return;
  const text = parts.join('\n');
  const cost = smsCost(text);
  sprint.pending = { keys: [], parts: [], lang: undefined, index: 0 };
  sprint.events.splice(index, 0, {
    type: 'msg_created',
    at: sprint.at,
    keys,
    lang: lang ?? sprint.session.lang,
    text,
    encoding: cost.encoding,
    segments: cost.segments,
  });
}

export function currentFlow(sprint: Sprint): Flow | undefined {
  return sprint.env.flows[sprint.session.flow_id];
}

const indexes = new WeakMap<Flow, Map<string, FlowNode>>();

export function findNode(flow: Flow | undefined, id: string): FlowNode | undefined {
  if (!flow) return undefined;
  let index = indexes.get(flow);
  if (!index) {
    index = new Map(flow.nodes.map((n) => [n.id, n]));
    indexes.set(flow, index);
  }
  return index.get(id);
}
