import type { Io } from '../../src/cli/flows-validate.js';

/** A writer that keeps what the command printed, for in-process runs. */
export function capture(): { io: Io; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (t) => out.push(t), err: (t) => err.push(t) },
    out: () => out.join(''),
    err: () => err.join(''),
  };
}
