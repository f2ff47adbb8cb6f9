import { DateTime, type DurationLikeObject } from 'luxon';
import {
  type EngineEvent,
  type EngineInput,
  type Env,
  type Flow,
  type LocaleSet,
  resume,
  type Session,
  type SprintResult,
  start as startFlow,
  type Trigger,
} from '../engine/index.js';
import { parseSimDuration } from './duration.js';

export const DEFAULT_ZONE = 'Europe/London';
/** A fixed, ordinary weekday morning: transcripts that do not set `start:` begin here. */
export const DEFAULT_START = '2026-11-24T10:00:00';

export type RuleOutcome = 'handled' | 'continue';

/**
 * A rule applied to every participant message before it reaches the engine (crisis words,
 * STOP/START/HELP, language change...), as the live runner applies it. A rule that handles
 * the message may change the conversation with `sim.apply(...)`; the engine then never sees it.
 */
export type GlobalRule = (text: string, session: Session, sim: Simulation) => RuleOutcome;
export type GlobalRules = readonly GlobalRule[];

export type BotMessage = Extract<EngineEvent, { type: 'msg_created' }>;
export type TimerInput = Extract<EngineInput, { type: 'timeout' | 'expired' }>;
export type TurnInput = EngineInput | { type: 'start' };

/** One engine call (or one rule's change): what went in, when, and what came out. */
export interface Turn {
  at: string;
  input: TurnInput;
  by: 'engine' | 'rule';
  events: EngineEvent[];
}

export interface PendingTimer {
  at: string;
  input: TimerInput;
}

/** The participant snapshot a flow starts with; tags and fields default to empty. */
export type SimParticipant = Record<string, unknown> & {
  tags?: string[] | undefined;
  fields?: Record<string, unknown> | undefined;
};

export interface SimulationOptions {
  flows: Readonly<Record<string, Flow>>;
  locales: LocaleSet;
  flow: string;
  lang?: string | undefined;
  participant?: SimParticipant | undefined;
  /** The rest of the trigger's context: booking, session, activity, link_worker, trigger. */
  context?: Omit<Trigger['context'], 'participant'> | undefined;
  /** IANA zone of the participant and the clock. Default Europe/London. */
  zone?: string | undefined;
  /** Local date-time in `zone` the clock starts at. Default 2026-11-24T10:00. */
  start?: string | undefined;
  defaultLang?: string | undefined;
  rules?: GlobalRules | undefined;
}

interface Timer {
  at: DateTime;
  seq: number;
  input: TimerInput;
}

/**
 * Drives the real engine for one participant with a virtual clock and counter ids, doing
 * what the live runner does with the engine's effects: keeps the timers its waits ask for
 * and fires them when the clock passes them. No I/O.
 */
export class Simulation {
  readonly events: EngineEvent[] = [];
  readonly turns: Turn[] = [];
  private clock: DateTime;
  private ids = 0;
  private seq = 0;
  private timers: Timer[] = [];
  private current: Session | undefined;
  private readonly options: SimulationOptions;

  constructor(options: SimulationOptions) {
    this.options = options;
    const zone = options.zone ?? DEFAULT_ZONE;
    this.clock = DateTime.fromISO(options.start ?? DEFAULT_START, { zone });
    if (!this.clock.isValid) {
      throw new RangeError(
        `bad start "${options.start}" or zone "${zone}": ${this.clock.invalidExplanation}`,
      );
    }
    if (!options.flows[options.flow]) throw new RangeError(`no flow "${options.flow}"`);
  }

  get now(): DateTime {
    return this.clock;
  }

  get started(): boolean {
    return this.current !== undefined;
  }

  get session(): Session {
    if (!this.current) throw new Error('the simulation has not started');
    return this.current;
  }

  get messages(): BotMessage[] {
    return this.events.filter((e): e is BotMessage => e.type === 'msg_created');
  }

  /** Timers not fired yet, in the order they will fire (stale ones included). */
  get pendingTimers(): PendingTimer[] {
    return this.sortedTimers().map((t) => ({ at: t.at.toISO() ?? '', input: t.input }));
  }

  /** The engine's environment at the current virtual time. */
  env(): Env {
    const { flows, locales } = this.options;
    return {
      now: this.clock,
      newId: () => `id-${++this.ids}`,
      flows,
      locales,
      defaultLang: this.options.defaultLang ?? defaultLangOf(locales),
    };
  }

  start(): Turn[] {
    if (this.current) throw new Error('the simulation has already started');
    const { flows, flow, lang, participant, context } = this.options;
    const trigger: Trigger = {
      context: {
        ...structuredClone(context ?? {}),
        participant: {
          ...participant,
          tags: participant?.tags ?? [],
          fields: participant?.fields ?? {},
        },
      },
      ...(lang !== undefined ? { lang } : {}),
    };
    return this.collect(() =>
      this.apply({ type: 'start' }, startFlow(flows[flow] as Flow, trigger, this.env()), 'engine'),
    );
  }

  /** The participant texts `text`: global rules first, then the engine. */
  send(text: string): Turn[] {
    return this.collect(() => {
      const session = this.session;
      for (const rule of this.options.rules ?? []) {
        if (rule(text, session, this) === 'handled') return;
      }
      this.feed({ type: 'msg', text });
    });
  }

  /**
   * Moves the clock on, firing every timer that falls due, each at its own time and in time
   * order (ties in the order they were set). A timer for a wait the session has left does
   * nothing, as in the engine; once the session has ended, timers are dropped, as the live
   * runner cancels them.
   */
  advance(duration: string | DurationLikeObject): Turn[] {
    const target = this.clock.plus(
      typeof duration === 'string' ? parseSimDuration(duration) : duration,
    );
    return this.collect(() => {
      for (let timer = this.nextDue(target); timer; timer = this.nextDue(target)) {
        this.timers = this.timers.filter((t) => t !== timer);
        if (timer.at > this.clock) this.clock = timer.at;
        if (this.session.status !== 'ended') this.feed(timer.input);
      }
      this.clock = target;
    });
  }

  /** A person hands the conversation back (`resume`) or closes it, optionally at `node`. */
  handback(resumeFlow: boolean, node?: string): Turn[] {
    return this.collect(() =>
      this.feed({
        type: 'handoff_closed',
        resume: resumeFlow,
        ...(node !== undefined ? { node } : {}),
      }),
    );
  }

  /** Records the outcome of an engine call (or a rule's change) and keeps its timers. */
  apply(input: TurnInput, result: SprintResult, by: Turn['by'] = 'rule'): Turn {
    this.current = result.session;
    const turn: Turn = { at: this.clock.toUTC().toISO() ?? '', input, by, events: result.events };
    this.turns.push(turn);
    this.events.push(...result.events);
    for (const e of result.events) if (e.type === 'wait_started') this.keepTimers(e);
    return turn;
  }

  private feed(input: EngineInput): void {
    this.apply(input, resume(this.session, input, this.env()), 'engine');
  }

  private collect(act: () => unknown): Turn[] {
    const before = this.turns.length;
    act();
    return this.turns.slice(before);
  }

  private keepTimers(e: Extract<EngineEvent, { type: 'wait_started' }>): void {
    const add = (at: string | undefined, type: TimerInput['type']): void => {
      if (at === undefined) return;
      const when = DateTime.fromISO(at, { zone: this.clock.zone });
      this.timers.push({ at: when, seq: this.seq++, input: { type, wait_id: e.wait_id } });
    };
    add(e.timeout_at, 'timeout');
    add(e.expires_at, 'expired');
  }

  private sortedTimers(): Timer[] {
    return [...this.timers].sort((a, b) => a.at.toMillis() - b.at.toMillis() || a.seq - b.seq);
  }

  private nextDue(target: DateTime): Timer | undefined {
    const first = this.sortedTimers()[0];
    return first && first.at <= target ? first : undefined;
  }
}

export function defaultLangOf(locales: LocaleSet): string {
  return locales.en ? 'en' : (Object.keys(locales).sort()[0] ?? 'en');
}
