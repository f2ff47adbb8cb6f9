/**
 * Concurrency that ramps up through a burst and starts small after each lull.
 *
 * A BullMQ Worker fetches jobs one Redis round trip at a time until it holds `concurrency`
 * of them, and only then starts the first (its main loop awaits each fetch, to spare Redis).
 * The reminders' worker holds 160 to keep its batches full: at the top of a burst of
 * reminders due at once, the first one waited for 160 sequential fetches (about 0.4 s on the
 * loaded benchmark machine) before it was fired. So the worker starts each burst holding a
 * few, doubles with every job it starts, and is back at the start once its queue has
 * drained: the first reminder goes after a handful of fetches, the rest at full width.
 */
export interface Rampable {
  concurrency: number;
  on(event: 'drained', listener: () => void): unknown;
}

export interface Ramp {
  /** Call as each job starts: the next fetches may take twice as many, up to the maximum. */
  started(): void;
}

export function rampConcurrency(worker: Rampable, start: number, max: number): Ramp {
  const low = Math.max(1, Math.min(start, max));
  worker.concurrency = low;
  worker.on('drained', () => {
    worker.concurrency = low;
  });
  return {
    started() {
      if (worker.concurrency < max) worker.concurrency = Math.min(max, worker.concurrency * 2);
    },
  };
}
