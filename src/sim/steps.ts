import type { EngineEvent } from '../engine/index.js';
import { matchesPartial, show } from './match.js';
import type { Simulation, Turn } from './simulation.js';
import { compilePattern, type Step } from './transcript-schema.js';

/** A step that did not hold: what the transcript wanted and what happened. */
export interface Mismatch {
  expected: string;
  actual: string;
}

export interface StepContext {
  sim: Simulation;
  /** Bot messages read so far, and the index after the last matched event. */
  cursor: { bot: number; event: number };
  log: (line: string) => void;
}

type StepOf<K extends Step['kind']> = Extract<Step, { kind: K }>;
type Runner<K extends Step['kind']> = (step: StepOf<K>, ctx: StepContext) => Mismatch | undefined;

/** Short, one-line form of an event, without its timestamp. */
export function briefEvent(e: EngineEvent): string {
  const { type, at: _at, ...rest } = e;
  const fields = Object.entries(rest).filter(([k]) => k !== 'text' && k !== 'encoding');
  return `${type}${fields.length > 0 ? ` ${show(Object.fromEntries(fields), 120)}` : ''}`;
}

function state(sim: Simulation): string {
  const { status, node } = sim.session;
  return `session ${status} at node ${node}`;
}

export function logBot(log: (line: string) => void, msg: Turn['events'][number]): void {
  if (msg.type !== 'msg_created') return;
  const [first = '', ...more] = msg.text.split('\n');
  log(`bot> ${first}`);
  for (const line of more) log(`     ${line}`);
  const s = msg.segments === 1 ? 'segment' : 'segments';
  log(`     [${msg.segments} ${s}, ${msg.encoding}, ${msg.lang}: ${msg.keys.join(' + ')}]`);
}

function logTurns(ctx: StepContext, turns: Turn[]): void {
  for (const turn of turns) {
    if (turn.input.type === 'timeout' || turn.input.type === 'expired') {
      ctx.log(`-- ${turn.input.type} fired for ${turn.input.wait_id} at ${turn.at}`);
    }
  }
}

const bot: Runner<'bot'> = (step, ctx) => {
  const wants = [
    step.pattern !== undefined ? `matching ${String(compilePattern(step.pattern))}` : '',
    step.key !== undefined ? `from key ${step.key}` : '',
  ].filter(Boolean);
  const expected = `the next bot message ${wants.join(' and ')}`;
  const msg = ctx.sim.messages[ctx.cursor.bot];
  if (!msg) return { expected, actual: `no unread bot message (${state(ctx.sim)})` };
  ctx.cursor.bot++;
  logBot(ctx.log, msg);
  const textOk = step.pattern === undefined || compilePattern(step.pattern).test(msg.text);
  const keyOk = step.key === undefined || msg.keys.includes(step.key);
  if (textOk && keyOk) return undefined;
  return { expected, actual: `${show(msg.text, 400)} from keys [${msg.keys.join(', ')}]` };
};

const noBot: Runner<'no_bot'> = (_step, ctx) => {
  const unread = ctx.sim.messages.slice(ctx.cursor.bot);
  if (unread.length === 0) return undefined;
  return {
    expected: 'no unread bot message',
    actual: unread.map((m) => `${show(m.text, 160)} [${m.keys.join(', ')}]`).join('\n            '),
  };
};

function eventsSince(ctx: StepContext): string {
  const rest = ctx.sim.events.slice(ctx.cursor.event);
  return rest.length === 0
    ? 'no events since the last matched one'
    : rest.map(briefEvent).join('\n            ');
}

const event: Runner<'event'> = (step, ctx) => {
  const want = typeof step.value === 'string' ? { type: step.value } : step.value;
  const events = ctx.sim.events;
  for (let i = ctx.cursor.event; i < events.length; i++) {
    if (matchesPartial(events[i], want)) {
      ctx.cursor.event = i + 1;
      ctx.log(`   ok event ${briefEvent(events[i] as EngineEvent)}`);
      return undefined;
    }
  }
  return {
    expected: `an event ${show(want)} after the last matched one`,
    actual: eventsSince(ctx),
  };
};

const noEvent: Runner<'no_event'> = (step, ctx) => {
  const found = ctx.sim.events.slice(ctx.cursor.event).find((e) => e.type === step.value);
  if (!found) return undefined;
  return {
    expected: `no ${step.value} event after the last matched one`,
    actual: briefEvent(found),
  };
};

function partial(
  what: string,
  actual: unknown,
  expected: Record<string, unknown>,
): Mismatch | undefined {
  if (matchesPartial(actual, expected)) return undefined;
  return { expected: `${what} including ${show(expected)}`, actual: show(actual, 400) };
}

export const stepRunners = {
  bot,
  no_bot: noBot,
  event,
  no_event: noEvent,
  say: (step, ctx) => {
    ctx.log(`you> ${step.value}`);
    ctx.sim.send(step.value);
    return undefined;
  },
  advance: (step, ctx) => {
    const turns = ctx.sim.advance(step.value);
    logTurns(ctx, turns);
    ctx.log(`-- advanced ${step.value} to ${ctx.sim.now.toFormat('ccc d LLL yyyy HH:mm ZZZZ')}`);
    return undefined;
  },
  handback: (step, ctx) => {
    const { resume, node } = step.value;
    ctx.log(`-- ${resume ? 'handed back' : 'closed'} by a person${node ? ` at ${node}` : ''}`);
    ctx.sim.handback(resume, node);
    return undefined;
  },
  answer: (step, ctx) => partial('answers', ctx.sim.session.answers, step.value),
  participant: (step, ctx) =>
    partial('participant', ctx.sim.session.context.participant, step.value),
  status: (step, ctx) => {
    const { status } = ctx.sim.session;
    if (status === step.value) return undefined;
    const ended = ctx.sim.session.ended;
    return {
      expected: `status ${step.value}`,
      actual: `${status}${ended ? ` (${ended.status})` : ''} at node ${ctx.sim.session.node}`,
    };
  },
  node: (step, ctx) => {
    const { node } = ctx.sim.session;
    return node === step.value
      ? undefined
      : { expected: `node ${step.value}`, actual: state(ctx.sim) };
  },
} satisfies { [K in Step['kind']]: Runner<K> };

/** Checks that log nothing themselves. */
const QUIET = new Set<Step['kind']>([
  'answer',
  'participant',
  'status',
  'node',
  'no_bot',
  'no_event',
]);

export function runStep(step: Step, ctx: StepContext): Mismatch | undefined {
  const mismatch = (stepRunners[step.kind] as Runner<typeof step.kind>)(step, ctx);
  if (!mismatch && QUIET.has(step.kind)) ctx.log(`   ok ${describeStep(step)}`);
  return mismatch;
}

/** The step as the transcript wrote it, for messages. */
export function describeStep(step: Step): string {
  if (step.kind === 'bot') {
    const parts = [
      step.pattern !== undefined ? `bot: ${show(step.pattern)}` : '',
      step.key !== undefined ? `key: ${step.key}` : '',
    ];
    return parts.filter(Boolean).join(', ');
  }
  return `${step.kind}: ${show(step.value)}`;
}
