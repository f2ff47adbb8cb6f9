import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { DateTime, type Zone } from 'luxon';
import type { Session } from '../engine/index.js';
import type { Simulation, Turn } from '../sim/simulation.js';
import { briefEvent, logBot } from '../sim/steps.js';

export const PLAY_HELP = `While playing, type the participant's replies, or:
  /wait 25h          move the clock on (30m, 25h, 1d, 1d 2h, 2w); due timers fire
  /events            show or hide engine events
  /handback [node]   a person hands the conversation back (at node)
  /close             a person closes the conversation without handing back
  /status            session status, node, answers, clock and timers
  /help              this help
  /quit              leave`;

interface PlayState {
  sim: Simulation;
  print: (line: string) => void;
  showEvents: boolean;
}

const CLOCK = 'ccc d LLL yyyy HH:mm ZZZZ';

function printTurn(state: PlayState, turn: Turn): void {
  const { input } = turn;
  if (input.type === 'timeout' || input.type === 'expired') {
    state.print(
      `-- ${input.type} timer for ${input.wait_id} fired at ${fromIso(turn.at, state.sim.now.zone)}`,
    );
  }
  for (const e of turn.events) {
    if (e.type === 'msg_created') logBot(state.print, e);
    else if (state.showEvents) state.print(`   · ${briefEvent(e)}`);
    else if (e.type === 'error' && ['input_ignored', 'session_ended'].includes(e.code)) {
      state.print(`-- ignored: ${e.detail}`);
    }
  }
}

function fromIso(iso: string, zone: Zone): string {
  return DateTime.fromISO(iso, { zone }).toFormat(CLOCK);
}

/** Prints what a command or reply did, and says so when the conversation changed hands. */
function report(state: PlayState, turns: Turn[], before: Session['status']): void {
  for (const turn of turns) printTurn(state, turn);
  const { status, ended } = state.sim.session;
  if (status === before) return;
  if (status === 'handed_off') {
    const asked = turns.flatMap((t) => t.events).find((e) => e.type === 'handoff_requested');
    const why = asked?.type === 'handoff_requested' ? ` (${asked.reason}, ${asked.urgency})` : '';
    state.print(`-- handed off to a person${why}: /handback [node] or /close`);
  } else if (before === 'handed_off' && status === 'waiting') {
    state.print('-- handed back: the bot has the conversation again');
  } else if (status === 'ended') {
    state.print(`-- conversation ended (${ended?.status ?? 'ended'}); /quit to leave`);
  }
}

function status(state: PlayState): void {
  const { sim, print } = state;
  const s = sim.session;
  print(`-- ${s.status} at node ${s.node} (flow ${s.flow_id}, ${s.lang})`);
  print(`   clock ${sim.now.toFormat(CLOCK)}`);
  print(`   answers ${JSON.stringify(s.answers)}`);
  for (const t of sim.pendingTimers) {
    const stale = t.input.wait_id === s.wait?.id ? '' : ' (stale: does nothing)';
    print(
      `   timer ${t.input.type} for ${t.input.wait_id} at ${fromIso(t.at, sim.now.zone)}${stale}`,
    );
  }
}

/** Runs one `/command`. Returns false for /quit. */
function command(state: PlayState, line: string): boolean {
  const [name = '', ...args] = line.slice(1).trim().split(/\s+/);
  const before = state.sim.session.status;
  switch (name) {
    case 'quit':
    case 'exit':
      return false;
    case 'help':
      state.print(PLAY_HELP);
      break;
    case 'events':
      state.showEvents = !state.showEvents;
      state.print(`-- engine events ${state.showEvents ? 'shown' : 'hidden'}`);
      break;
    case 'status':
      status(state);
      break;
    case 'wait':
      wait(state, args.join(' '), before);
      break;
    case 'handback':
      report(state, state.sim.handback(true, args[0]), before);
      break;
    case 'close':
      report(state, state.sim.handback(false), before);
      break;
    default:
      state.print(`-- unknown command /${name}; /help lists them`);
  }
  return true;
}

function wait(state: PlayState, text: string, before: Session['status']): void {
  if (text === '') {
    state.print('-- /wait needs a duration, e.g. /wait 25h');
    return;
  }
  try {
    const turns = state.sim.advance(text);
    report(state, turns, before);
    state.print(`-- clock now ${state.sim.now.toFormat(CLOCK)}`);
  } catch (error) {
    state.print(`-- ${(error as Error).message}`);
  }
}

/** Plays a started-or-not simulation on a terminal (or any streams). Returns the exit code. */
export async function play(sim: Simulation, input: Readable, output: Writable): Promise<number> {
  const state: PlayState = {
    sim,
    print: (line) => output.write(`${line}\n`),
    showEvents: false,
  };
  const tty = (input as { isTTY?: boolean }).isTTY === true;
  state.print(`-- clock ${sim.now.toFormat(CLOCK)} (${sim.now.zoneName}); /help for commands`);
  report(state, sim.start(), 'waiting');
  const rl = createInterface({ input, terminal: false });
  const prompt = (): void => {
    if (tty) output.write('you> ');
  };
  prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (!tty) state.print(`you> ${line}`);
    if (line.startsWith('/')) {
      if (!command(state, line)) break;
    } else if (line !== '') {
      const before = sim.session.status;
      report(state, sim.send(line), before);
    }
    prompt();
  }
  rl.close();
  return 0;
}
