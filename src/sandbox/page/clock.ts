/**
 * The sandbox clock: real time plus an offset that only ever grows. In sandbox mode it is
 * the runner's, the rules', the sink's and the reconciler's clock (buildService's `now`),
 * so a reminder fired after "advance to tomorrow 10:00" sees tomorrow 10:00, and what it
 * schedules next is planned from there. Production never builds one: its clock is real.
 */
export interface SandboxClock {
  now(): Date;
  /** How far ahead of real time the sandbox is, in milliseconds. */
  offsetMs(): number;
  /** Moves forward to `target`; refuses to go back (a timer already fired cannot unfire). */
  moveTo(target: Date): void;
  /** Moves forward by exactly `ms` (> 0). */
  advance(ms: number): void;
}

export class ClockBackwards extends Error {
  constructor(readonly target: Date) {
    super('the sandbox clock only moves forward');
  }
}

export function createSandboxClock(real: () => number = Date.now): SandboxClock {
  let offset = 0;
  const now = () => new Date(real() + offset);
  return {
    now,
    offsetMs: () => offset,
    moveTo: (target) => {
      const ahead = target.getTime() - now().getTime();
      if (ahead < 0) throw new ClockBackwards(target);
      offset += ahead;
    },
    advance: (ms) => {
      if (ms < 0) throw new ClockBackwards(new Date(real() + offset + ms));
      offset += ms;
    },
  };
}
